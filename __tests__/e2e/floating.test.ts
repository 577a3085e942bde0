// Floating tags never move backwards, against the real registry: v2.3.1, then backports v1.9.5
// and v2.2.9, then v2.3.2. Each tag is checked by digest: the one the run that should own it
// reported. A dry run that can read the registry says what it would leave.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from '@jest/globals';
import {
  ENGINE,
  EVENTS,
  listTags,
  localPublishInputs,
  REGISTRY,
  registryGet,
  runAction,
  TEST_DOCKER_CONFIG,
  uniqueRepo,
  type ActionRun
} from './harness.js';

function releaseEvent(tag: string): string {
  const e = JSON.parse(readFileSync(join(EVENTS, 'release-published.json'), 'utf8')) as { release: Record<string, unknown> };
  e.release = { ...e.release, tag_name: tag, prerelease: false };
  const f = join(mkdtempSync(join(tmpdir(), 'gdp-event-')), 'event.json');
  writeFileSync(f, JSON.stringify(e));
  return f;
}

describe(`floating tags never move backwards (${ENGINE} image store)`, () => {
  const repo = `${uniqueRepo('float')}/server`;
  const runs: Record<string, ActionRun> = {};
  /** The digest each floating tag held in the registry right after a run, before a later one could move it. */
  const held: Record<string, Record<string, string | null>> = {};
  let dry: ActionRun;
  const publish = (version: string, extra: Record<string, string> = {}, env: Record<string, string> = {}): Promise<ActionRun> =>
    runAction({
      inputs: {
        images: `- name: ${REGISTRY}/${repo}\n  smoke: ["--version"]`,
        platforms: 'linux/amd64',
        cache: 'none',
        'semver-tags': 'true',
        ...localPublishInputs(),
        ...extra
      },
      event: releaseEvent(version),
      eventName: 'release',
      ref: `refs/tags/${version}`,
      env
    });
  const digestOf = (r: ActionRun | undefined): string => (JSON.parse(r?.outputs.images ?? '[]') as { digest: string }[])[0]?.digest ?? '';
  const tagDigest = async (tag: string): Promise<string | null> => (await registryGet(`${repo}/manifests/${tag}`)).digest;

  beforeAll(
    async () => {
      const release = async (v: string): Promise<void> => {
        runs[v] = await publish(v);
        held[v] = Object.fromEntries(await Promise.all(['latest', '2', '1'].map(async (t) => [t, await tagDigest(t)] as const)));
      };
      for (const v of ['v2.3.1', 'v1.9.5']) await release(v);
      dry = await publish('v2.2.9', { 'dry-run': 'true' }, { DOCKER_CONFIG: TEST_DOCKER_CONFIG });
      for (const v of ['v2.2.9', 'v2.3.2']) await release(v);
      for (const [v, r] of Object.entries(runs)) {
        if (r.status !== 0) throw new Error(`${v} failed:\n${r.stdout.split('\n').slice(-30).join('\n')}`);
      }
    },
    15 * 60 * 1000
  );

  it('v1.9.5 after v2.3.1 gets v1.9.5 1.9.5 1.9 1, not latest, with a notice naming the version that keeps it', () => {
    const r = runs['v1.9.5'];
    expect(r?.outputs['pushed-tags']?.split('\n').map((t) => t.split(':').pop())).toEqual(['v1.9.5', '1.9.5', '1.9', '1']);
    expect(r?.stdout).toContain(`::notice::${REGISTRY}/${repo}:latest is not moved to v1.9.5: it holds v2.3.1, newer than v1.9.5`);
    // The registry right after v1.9.5 (v2.3.2 moves latest later): latest and 2 still hold v2.3.1's index, 1 holds v1.9.5's.
    const [d231, d195] = [digestOf(runs['v2.3.1']), digestOf(r)];
    expect(d231).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(d195).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(held['v1.9.5']).toEqual({ latest: d231, '2': d231, '1': d195 });
  });

  it('a dry run of v2.2.9 that can read the registry says it would leave 2 and latest', () => {
    expect(dry.status).toBe(0);
    expect(dry.stdout).toContain(`${REGISTRY}/${repo}:2 would not be moved to v2.2.9: it holds v2.3.1, newer than v2.2.9`);
    expect(dry.stdout).toContain(`${REGISTRY}/${repo}:latest would not be moved to v2.2.9: it holds v2.3.1, newer than v2.2.9`);
    expect(dry.outputs.tags?.split('\n').map((t) => t.split(':').pop())).toEqual(['v2.2.9', '2.2.9', '2.2']);
  });

  it('every tag holds the digest of the run that should own it', async () => {
    const [d231, d195, d229, d232] = ['v2.3.1', 'v1.9.5', 'v2.2.9', 'v2.3.2'].map((v) => digestOf(runs[v]));
    expect(new Set([d231, d195, d229, d232]).size).toBe(4);
    const want: Record<string, string | undefined> = {
      'v2.3.1': d231,
      '2.3.1': d231,
      'v1.9.5': d195,
      '1.9.5': d195,
      '1.9': d195,
      '1': d195,
      'v2.2.9': d229,
      '2.2.9': d229,
      '2.2': d229,
      'v2.3.2': d232,
      '2.3.2': d232,
      '2.3': d232,
      '2': d232,
      latest: d232
    };
    expect(await listTags(repo)).toEqual(Object.keys(want).sort());
    for (const [tag, digest] of Object.entries(want)) expect([tag, await tagDigest(tag)]).toEqual([tag, digest]);
    // v2.2.9 left 2 and latest with v2.3.1 (read right after it) until v2.3.2 moved them.
    expect(runs['v2.2.9']?.outputs['pushed-tags']?.split('\n').map((t) => t.split(':').pop())).toEqual(['v2.2.9', '2.2.9', '2.2']);
    expect(held['v2.2.9']).toEqual({ latest: d231, '2': d231, '1': d195 });
  });
});
