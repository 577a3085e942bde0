// Floating tags that converge when releases run at once: the pure decisions (which tag goes back to
// which version, for interleavings), and the phase with a fake registry whose writes interleave.
import { describe, expect, it } from '@jest/globals';
import { checkFloat, entitled, FLOATING_ANNOTATION, higherVersions, inFamily, withFloatingAnnotation } from '../../src/plan/converge.js';
import type { Plan } from '../../src/plan/types.js';
import { parseSemver } from '../../src/plan/version.js';
import { convergeFloating } from '../../src/run/converge.js';
import { tagAll } from '../../src/run/tag.js';
import type { ExecResult } from '../../src/run/runner.js';
import { FakeRunner } from '../support/fake-runner.js';

const v = (s: string) => parseSemver(s)!;

describe('which versions a floating tag may go to', () => {
  it.each<[string, string, boolean]>([
    ['latest', 'v3.1.0', true],
    ['latest', 'v3.2.0-rc.1', false], // only stable versions count for latest
    ['3', 'v3.9.1', true],
    ['3', 'v4.0.0', false],
    ['3.1', 'v3.1.7', true],
    ['3.1', 'v3.2.0', false],
    ['3.1', '3.1.7-build.7', false], // a version tag made from v3.1.7+build.7 reads as a pre-release: its 3.1.7 tag counts
    ['nightly', 'v3.1.0', false]
  ])('%s takes %s: %s', (tag, version, want) => {
    expect(inFamily(tag, v(version))).toBe(want);
  });

  it('higher versions of the family, highest first, one tag each (the v-spelled one), floating and other tags ignored', () => {
    const tags = [
      'v3.0.9',
      '3.0.9',
      '3.0',
      '3',
      'latest',
      'v3.1.0',
      '3.1.0',
      '3.1',
      'v3.2.0-rc.1',
      'v2.9.9',
      'sha-3f78685',
      'main',
      '3.1.5'
    ];
    expect(higherVersions('latest', 'v3.0.9', tags)).toEqual([
      { version: '3.1.5', tag: '3.1.5' },
      { version: '3.1.0', tag: 'v3.1.0' }
    ]);
    expect(higherVersions('3.0', 'v3.0.9', tags)).toEqual([]);
    expect(higherVersions('3', 'v3.1.0', tags)).toEqual([{ version: '3.1.5', tag: '3.1.5' }]);
    expect(higherVersions('latest', 'nightly-5', tags)).toEqual([]);
  });

  it('a version is entitled to a floating tag only when its own release takes it (the index annotation)', () => {
    const stable = withFloatingAnnotation({ 'org.opencontainers.image.version': 'v3.1.0' }, ['3.1', '3', 'latest']);
    expect(stable[FLOATING_ANNOTATION]).toBe('3.1 3 latest');
    expect(entitled('latest', stable)).toBe(true);
    // A release marked pre-release (v3.2.0: 3.2 and 3, no latest), or published with latest: false.
    expect(entitled('latest', withFloatingAnnotation({}, ['3.2', '3']))).toBe(false);
    expect(entitled('3', withFloatingAnnotation({}, ['3.2', '3']))).toBe(true);
    // An index without the annotation (an older publisher): never a target.
    expect(entitled('latest', {})).toBe(false);
    expect(entitled('latest', undefined)).toBe(false);
    expect(withFloatingAnnotation({ a: 'b' }, [])).toEqual({ a: 'b' });
  });
});

describe('what a run finds when it looks again at a floating tag it wrote', () => {
  // v3.0.9 and v3.1.0 at once; each row: what the tag holds at v3.0.9's look, the tags then.
  it.each<[string, string | null | undefined, string[], ReturnType<typeof checkFloat>]>([
    // v3.0.9 wrote latest last: it holds v3.0.9, and v3.1.0's version tag is there: go back to v3.1.0.
    ['older written last', 'v3.0.9', ['v3.0.9', 'v3.1.0', 'latest'], { kind: 'behind', candidates: [{ version: '3.1.0', tag: 'v3.1.0' }] }],
    // v3.1.0 wrote latest after v3.0.9: not v3.0.9's to fix, and not among its tags.
    ['newer written last', 'v3.1.0', ['v3.0.9', 'v3.1.0', 'latest'], { kind: 'overwritten', holds: 'v3.1.0' }],
    // v3.0.9 looked before v3.1.0 wrote even its version tag: nothing higher yet (v3.1.0 then moves latest itself).
    ['newer not there yet', 'v3.0.9', ['v3.0.9', 'latest'], { kind: 'kept' }],
    // Someone deleted the tag: not this run's any more.
    ['gone', null, ['v3.0.9'], { kind: 'overwritten', holds: null }]
  ])('%s', (_what, holds, tags, want) => {
    expect(checkFloat('latest', 'v3.0.9', holds, tags)).toEqual(want);
  });

  it('a release that is not semver is left as written', () => {
    expect(checkFloat('latest', 'nightly-5', 'nightly-5', ['v9.0.0'])).toEqual({ kind: 'not-semver' });
  });
});

/**
 * A registry in memory: tags → index (version, floating annotation); `imagetools create` writes,
 * `inspect` reads. `afterWrite` lets a test make another run write in between.
 */
class FakeRegistry {
  tags = new Map<string, { version: string; floating: string }>();
  afterWrite?: (ref: string) => void;
  /** Reads find nothing until the next write: a run that decided before the other run's writes. */
  blind = false;
  runner(): FakeRunner {
    return new FakeRunner((a): Partial<ExecResult> => {
      if (a[1] !== 'imagetools') return {};
      if (a[2] === 'create') {
        // One call may write several tags (buildx writes each).
        const refs = a.filter((x) => x.startsWith('--tag=')).map((x) => x.slice(6));
        if (a.includes('--dry-run')) return { stdout: '{"schemaVersion":2}' };
        const source = a[a.length - 1] ?? '';
        const floating = a
          .find((x) => x.startsWith(`--annotation=index:${FLOATING_ANNOTATION}=`))
          ?.split('=')
          .slice(2)
          .join('=');
        const version = a.find((x) => x.startsWith('--annotation=index:org.opencontainers.image.version='))?.split('=')[2];
        for (const ref of refs) {
          this.blind = false;
          const copied = this.tags.get(source);
          this.tags.set(ref, copied && !version ? copied : { version: version ?? '', floating: floating ?? '' });
          this.afterWrite?.(ref);
        }
        return {};
      }
      const t = this.blind ? undefined : this.tags.get(a[3] ?? '');
      if (!t) return { exitCode: 1, stderr: 'ERROR: not found' };
      if (a[4] === '--raw') return { stdout: JSON.stringify({ annotations: { [FLOATING_ANNOTATION]: t.floating } }) };
      if (a[4]?.includes('.Image'))
        return { stdout: JSON.stringify({ config: { Labels: { 'org.opencontainers.image.version': t.version } } }) };
      return { stdout: JSON.stringify({ digest: `sha256:${t.version}` }) };
    });
  }
  lister = {
    tags: async (repo: string) => [...this.tags.keys()].filter((r) => r.startsWith(`${repo}:`)).map((r) => r.slice(repo.length + 1))
  };
  version = (ref: string) => this.tags.get(ref)?.version;
}

const REPO = 'ghcr.io/o/app';
const plan = (version: string, latest: 'auto' | 'true' = 'auto'): Plan => {
  const sv = parseSemver(version)!;
  const floating = [`${sv.major}.${sv.minor}`, `${sv.major}`, 'latest'];
  const tags = [version, `${sv.major}.${sv.minor}.${sv.patch}`, ...floating];
  return {
    release: { version, tags, stable: true, source: 'release', notices: [] },
    latest,
    images: [
      {
        name: REPO,
        repositories: [REPO],
        refs: tags.map((t) => `${REPO}:${t}`),
        annotations: withFloatingAnnotation({ 'org.opencontainers.image.version': version }, floating)
      }
    ]
  } as unknown as Plan;
};
const noRetry = { attempts: 1, baseDelayMs: 0 };

describe('the check after tagging, against a registry whose writes interleave', () => {
  const publish = async (reg: FakeRegistry, version: string, latest: 'auto' | 'true' = 'auto') => {
    const r = reg.runner();
    const p = plan(version, latest);
    const pushed: string[] = [];
    const tagged = await tagAll(p, [[`${REPO}@sha256:${version}`]], r, { pushed: (x) => pushed.push(x), tagged: () => undefined });
    return { notLeft: await convergeFloating(p, tagged, r, reg.lister, { retry: noRetry }), runner: r, pushed };
  };

  it('v3.0.9 writes latest after v3.1.0 finished: it moves latest (and leaves 3) back to v3.1.0 with a carbon copy, and reports neither', async () => {
    const reg = new FakeRegistry();
    await publish(reg, 'v3.1.0');
    // v3.0.9 read the floating tags before v3.1.0 wrote them, so it writes every one.
    reg.blind = true;
    const { notLeft, runner } = await publish(reg, 'v3.0.9');
    expect([reg.version(`${REPO}:latest`), reg.version(`${REPO}:3`), reg.version(`${REPO}:3.0`)]).toEqual(['v3.1.0', 'v3.1.0', 'v3.0.9']);
    expect([...notLeft].sort()).toEqual([`${REPO}:3`, `${REPO}:latest`]);
    // The move is a copy of v3.1.0's index: one source, no annotations.
    expect(runner.calls).toContainEqual(['buildx', 'imagetools', 'create', `--tag=${REPO}:latest`, `${REPO}:v3.1.0`]);
  });

  it('a newer version whose release did not take latest (pre-release, latest: false) is not a target', async () => {
    const reg = new FakeRegistry();
    reg.tags.set(`${REPO}:v3.5.0`, { version: 'v3.5.0', floating: '3.5 3' });
    await publish(reg, 'v3.1.0');
    expect([reg.version(`${REPO}:latest`), reg.version(`${REPO}:3`)]).toEqual(['v3.1.0', 'v3.5.0']);
  });

  it('latest: true keeps the latest it forced', async () => {
    const reg = new FakeRegistry();
    await publish(reg, 'v3.1.0');
    reg.blind = true;
    const { notLeft } = await publish(reg, 'v3.0.9', 'true');
    expect(reg.version(`${REPO}:latest`)).toBe('v3.0.9');
    expect(notLeft.has(`${REPO}:latest`)).toBe(false);
  });

  it('a higher release that lands while the run moves a tag is seen in the next round: the tag ends on the highest', async () => {
    const reg = new FakeRegistry();
    await publish(reg, 'v3.1.0');
    let landed = false;
    // When v3.0.9 moves latest to v3.1.0, v3.2.0 has just published all of its tags.
    reg.afterWrite = (ref) => {
      if (landed || ref !== `${REPO}:latest` || reg.version(ref) !== 'v3.1.0') return;
      landed = true;
      for (const t of ['v3.2.0', '3.2.0', '3.2', '3', 'latest'])
        reg.tags.set(`${REPO}:${t}`, { version: 'v3.2.0', floating: '3.2 3 latest' });
      reg.tags.set(`${REPO}:latest`, { version: 'v3.1.0', floating: '3.1 3 latest' }); // v3.0.9's move lands last
    };
    reg.blind = true;
    await publish(reg, 'v3.0.9');
    expect(landed).toBe(true);
    expect(reg.version(`${REPO}:latest`)).toBe('v3.2.0');
  });

  it('in each repository every version tag is written before any floating tag', async () => {
    const reg = new FakeRegistry();
    const { runner } = await publish(reg, 'v3.1.0');
    // Each create call in order, with the tags it writes (one call may write several).
    const written = runner.calls
      .filter((c) => c[2] === 'create' && !c.includes('--dry-run'))
      .map((c) => c.filter((x) => x.startsWith('--tag=')).map((x) => x.split(':').pop()));
    expect(written.slice(0, 2)).toEqual([
      ['v3.1.0', '3.1.0'],
      ['3.1', '3', 'latest']
    ]);
  });
});
