// mode: publish | platform | merge — the inputs, the plan of one runner of a matrix, the records
// that carry digests to the merge job, and both runs through the pipeline with a fake engine and a
// fake cache service.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { readInputs } from '../../src/inputs/index.js';
import { checkRecords, handoffKey, handoffPrefix, handoffRecords, handoffScope, type HandoffRecord } from '../../src/plan/handoff.js';
import { buildPlan } from '../../src/plan/plan.js';
import type { Inputs } from '../../src/plan/types.js';
import type { CacheStore, SaveResult } from '../../src/run/actions-cache.js';
import type { GithubAttestation } from '../../src/run/github-attest.js';
import { runPipeline } from '../../src/run/pipeline.js';
import { FakeRunner } from '../support/fake-runner.js';
import { ctxFor, inputsFor, SHA, TUNNEL_IMAGE } from '../support/plan-inputs.js';
import { bundleLine, DIGEST, platformEngine } from '../support/fake-engine.js';

const ctx = ctxFor('release-published');

const inputs = (over: Partial<Inputs> = {}): Inputs =>
  inputsFor(
    [
      TUNNEL_IMAGE,
      {
        names: ['ghcr.io/example/web'],
        dockerfile: 'Dockerfile.web',
        context: '.',
        buildArgs: {},
        labels: {},
        smoke: { enabled: false },
        platforms: ['linux/amd64']
      }
    ],
    { cache: 'none', goCache: 'false', ...over }
  );

describe('mode inputs', () => {
  const get = (values: Record<string, string>) => (name: string) => values[name] ?? (name === 'images' ? '- name: ghcr.io/o/a' : '');
  it('defaults to publish; reads platform and merge, and build-platforms', () => {
    expect(readInputs(get({})).mode).toBe('publish');
    expect(readInputs(get({ mode: 'merge' })).mode).toBe('merge');
    const p = readInputs(get({ mode: 'platform', 'build-platforms': 'linux/arm64' }));
    expect([p.mode, p.buildPlatforms]).toEqual(['platform', ['linux/arm64']]);
  });
  it.each([
    [{ mode: 'split' }, /Input "mode": "split" is not valid. Expected "publish" \| "platform" \| "merge"/],
    [
      { 'build-platforms': 'linux/arm64' },
      /Input "build-platforms": "linux\/arm64" is not valid. Expected nothing unless mode is "platform" \(mode is "publish"\)/
    ],
    [{ mode: 'platform', 'build-platforms': 'linux/sparc' }, /Input "build-platforms": "linux\/sparc"/],
    [
      { mode: 'merge', 'builder-endpoints': '- endpoint: ssh://b@h\n  platforms: linux/arm64' },
      /Input "builder-endpoints".*nothing with mode "merge"/
    ]
  ])('refuses %j', (values, msg) => {
    expect(() => readInputs(get(values))).toThrow(msg);
  });
});

describe('the plan of one runner of a matrix (mode: platform)', () => {
  it('keeps the platforms of the runner’s architecture, tests every one, and leaves out an image with none', () => {
    const p = buildPlan(inputs({ mode: 'platform' }), ctx, 'arm64');
    expect(p.images.map((i) => [i.name, i.platforms])).toEqual([['ghcr.io/example/tunnel', ['linux/arm64']]]);
    expect(p.smokePlatforms).toBe('all');
    expect(p.notices).toContain(
      'mode: platform: ghcr.io/example/web has no platform this runner builds; other runners of the matrix build it'
    );
  });
  it('build-platforms chooses instead of the architecture', () => {
    const p = buildPlan(inputs({ mode: 'platform', buildPlatforms: ['linux/arm64'] }), ctx, 'amd64');
    expect(p.images.map((i) => i.platforms)).toEqual([['linux/arm64']]);
  });
  it('fails, naming build-platforms, when no image has a platform for this runner', () => {
    expect(() => buildPlan(inputs({ mode: 'platform', buildPlatforms: ['linux/s390x'] }), ctx, 'amd64')).toThrow(
      /Input "build-platforms": "linux\/s390x" is not valid here. Expected at least one of the images' platforms \(linux\/amd64, linux\/arm64\)/
    );
    expect(() => buildPlan(inputs({ mode: 'platform' }), ctx, 'riscv64')).toThrow(/linux\/riscv64 \(the runner's own/);
  });
  it('every runner and the merge job name the same set of images', () => {
    const scopes = [
      buildPlan(inputs({ mode: 'platform' }), ctx, 'amd64'),
      buildPlan(inputs({ mode: 'platform' }), ctx, 'arm64'),
      buildPlan(inputs({ mode: 'merge' }), ctx, 'amd64')
    ].map((p) => p.handoffScope);
    expect(new Set(scopes).size).toBe(1);
    // The same value in every version of the action, whatever the order of the names.
    expect(scopes[0]).toBe('bae57eb68163');
    expect(handoffScope(['ghcr.io/example/web', 'ghcr.io/example/tunnel'])).toBe('bae57eb68163');
    expect(handoffScope(['ghcr.io/example/tunnel'])).toBe('7a984ec6a442');
  });
  it('keys: one prefix per platform, attempts after it; linux/arm never finds linux/arm/v7', () => {
    expect(handoffKey('991', 'abc', 'linux/arm/v7', '2')).toBe('go-docker-publish-handoff-991-abc-linux-arm-v7@2');
    expect(handoffKey('991', 'abc', 'linux/arm/v7', '2').startsWith(handoffPrefix('991', 'abc', 'linux/arm'))).toBe(false);
  });
});

const record = (platform: string, images: HandoffRecord['images'], over: Partial<HandoffRecord> = {}): HandoffRecord => ({
  schema: 1,
  run: '991',
  sha: SHA,
  version: 'v2.3.1',
  platform,
  images,
  ...over
});
const T_AMD = 'ghcr.io/example/tunnel@sha256:aaa';
const T_ARM = 'ghcr.io/example/tunnel@sha256:bbb';
const W_AMD = 'ghcr.io/example/web@sha256:ccc';

describe('checkRecords: what the merge job accepts', () => {
  const plan = buildPlan(inputs({ mode: 'merge' }), ctx, 'amd64');
  const run = { id: '991', sha: SHA };
  const amd = record('linux/amd64', [
    { name: 'ghcr.io/example/tunnel', source: T_AMD, smoke: 'passed', tested: 'sha256:1' },
    { name: 'ghcr.io/example/web', source: W_AMD, smoke: 'skipped' }
  ]);
  const arm = record('linux/arm64', [{ name: 'ghcr.io/example/tunnel', source: T_ARM, smoke: 'passed', tested: 'sha256:2' }]);

  it('every platform of every image, smoke-tested (or smoke: false): one source per platform', () => {
    expect(checkRecords(plan, { 'linux/amd64': amd, 'linux/arm64': arm }, run)).toEqual({
      sources: [[T_AMD, T_ARM], [W_AMD]],
      tested: [{ 'linux/amd64': 'sha256:1', 'linux/arm64': 'sha256:2' }, {}],
      smoke: [
        { image: 'ghcr.io/example/tunnel', platform: 'linux/amd64', status: 'passed', imageId: 'sha256:1' },
        { image: 'ghcr.io/example/tunnel', platform: 'linux/arm64', status: 'passed', imageId: 'sha256:2' }
      ],
      problems: []
    });
  });
  it.each<[string, Record<string, HandoffRecord | undefined>, string]>([
    [
      'a platform run that failed',
      { 'linux/amd64': amd },
      'image ghcr.io/example/tunnel, platform linux/arm64: no platform run of this workflow run pushed it'
    ],
    [
      'another run',
      { 'linux/amd64': amd, 'linux/arm64': { ...arm, run: '990' } },
      'platform linux/arm64: the record found is from run 990'
    ],
    [
      'another version',
      { 'linux/amd64': amd, 'linux/arm64': { ...arm, version: 'v2.3.0' } },
      'platform linux/arm64: the platform run published version v2.3.0, this merge v2.3.1'
    ],
    [
      'an image the platform run did not build',
      { 'linux/amd64': { ...amd, images: [amd.images[0]!] }, 'linux/arm64': arm },
      'image ghcr.io/example/web, platform linux/amd64: the platform run that built linux/amd64 did not build this image'
    ],
    [
      'smoke skipped for an image whose smoke test is on',
      { 'linux/amd64': amd, 'linux/arm64': { ...arm, images: [{ name: 'ghcr.io/example/tunnel', source: T_ARM, smoke: 'skipped' }] } },
      'image ghcr.io/example/tunnel, platform linux/arm64: not smoke-tested (skipped)'
    ]
  ])('refuses %s, naming the image and platform', (_, records, problem) => {
    const r = checkRecords(plan, records, run);
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]).toContain(problem);
  });
});

/** The Actions cache, in memory: entries by key; restore finds the exact key, else the newest with a prefix. */
class FakeCache implements CacheStore {
  entries: { key: string; content: string }[] = [];
  available(): boolean {
    return true;
  }
  async save(paths: string[], key: string): Promise<SaveResult> {
    if (this.entries.some((e) => e.key === key)) return { saved: false, refusal: { kind: 'exists', detail: `${key} exists` } };
    this.entries.push({ key, content: readFileSync(join(expand(paths[0] ?? ''), 'record.json'), 'utf8') });
    return { saved: true };
  }
  async restore(paths: string[], key: string, restoreKeys: string[]): Promise<string | undefined> {
    const hit =
      this.entries.find((e) => e.key === key) ?? [...this.entries].reverse().find((e) => restoreKeys.some((k) => e.key.startsWith(k)));
    if (!hit) return undefined;
    const f = join(expand(paths[0] ?? ''), 'record.json');
    mkdirSync(dirname(f), { recursive: true });
    writeFileSync(f, hit.content);
    return hit.key;
  }
}
const expand = (p: string): string => (p.startsWith('~/') ? join(homedir(), p.slice(2)) : p);

describe('platform runs and the merge job, with a fake engine and a fake cache service', () => {
  const hooks = { loggedIn: () => undefined, builderCreated: () => undefined };
  const env = (cache: FakeCache, attempt = '1') => ({
    runId: '991-1',
    ghaCache: { reason: 'none here' },
    tempDir: mkdtempSync(join(tmpdir(), 'gdp-unit-')),
    cacheStore: cache,
    workflowRun: { id: '991', attempt, sha: SHA }
  });
  const tunnelOnly = (over: Partial<Inputs>): Inputs => inputs({ ...over, images: [inputs().images[0]!] });

  it('with sign: the platform runs sign and attest nothing; the merge attests each platform as its run tested it', async () => {
    const cache = new FakeCache();
    const signing = { sign: { mode: 'keyless', transparencyLog: true }, attest: { smoke: true, github: false, token: '' } } as const;
    for (const arch of ['amd64', 'arm64'] as const) {
      const r = new FakeRunner(platformEngine(arch));
      expect(
        (await runPipeline(buildPlan(tunnelOnly({ mode: 'platform', ...signing }), ctx, arch), r, hooks, env(cache))).error
      ).toBeUndefined();
      expect(r.calls.filter((c) => c[0] === 'cosign')).toEqual([]);
    }
    const predicates: unknown[] = [];
    const engine = platformEngine('amd64');
    const r = new FakeRunner((args) => {
      const file = args.find((a) => a.startsWith('--predicate='))?.slice('--predicate='.length);
      if (file) predicates.push(JSON.parse(readFileSync(file, 'utf8')));
      return engine(args);
    });
    const res = await runPipeline(buildPlan(tunnelOnly({ mode: 'merge', ...signing }), ctx, 'amd64'), r, hooks, env(cache));
    expect(res.error).toBeUndefined();
    expect(res.images[0]?.attestations?.[0]?.digests).toEqual([DIGEST(9), DIGEST(5), DIGEST(6)]);
    expect(predicates).toHaveLength(3);
    expect(predicates[0]).toMatchObject({
      result: 'PASSED',
      passedTests: ['linux/amd64: exited with code 0', 'linux/arm64: exited with code 0'],
      configuration: [
        { name: 'workflow run' },
        { name: 'linux/amd64', annotations: { imageId: DIGEST(5), exitCode: 0 } },
        { name: 'linux/arm64', annotations: { imageId: DIGEST(6), exitCode: 0 } }
      ]
    });
  });

  it('with attest: github: the platform runs make no GitHub attestation; the merge makes provenance and the smoke-test statement of both platforms', async () => {
    const cache = new FakeCache();
    const github = { sign: { mode: 'false', transparencyLog: true }, attest: { smoke: true, github: true, token: 't' } } as const;
    const made: GithubAttestation[] = [];
    const githubAttester = { attest: async (a: GithubAttestation) => void made.push(a) };
    for (const arch of ['amd64', 'arm64'] as const) {
      const r = new FakeRunner(platformEngine(arch));
      const plan = buildPlan(tunnelOnly({ mode: 'platform', ...github }), ctx, arch);
      expect((await runPipeline(plan, r, hooks, { ...env(cache), githubAttester })).error).toBeUndefined();
      expect(made).toEqual([]);
      expect(r.calls.filter((c) => c[0] === 'cosign')).toEqual([]);
    }
    // The merge reads back what GitHub's attestations pushed beside each digest (GitHub's own Sigstore: found, not verified).
    const engine = platformEngine('amd64');
    const r = new FakeRunner((args) => {
      if (args[0] !== 'cosign' || args[1] !== 'download') return engine(args);
      const type = args.find((a) => a.startsWith('--predicate-type='))?.slice('--predicate-type='.length);
      return { stdout: `${bundleLine(type ?? '', (args.at(-1) ?? '').split('@')[1] ?? '')}\n` };
    });
    const res = await runPipeline(buildPlan(tunnelOnly({ mode: 'merge', ...github }), ctx, 'amd64'), r, hooks, {
      ...env(cache),
      githubAttester
    });
    expect(res.error).toBeUndefined();
    expect(made.map((a) => [a.predicateType, a.digests])).toEqual([
      ['https://slsa.dev/provenance/v1', [DIGEST(9)]],
      ['https://in-toto.io/attestation/test-result/v0.1', [DIGEST(9), DIGEST(5), DIGEST(6)]]
    ]);
    expect(made[1]?.predicate).toMatchObject({
      result: 'PASSED',
      passedTests: ['linux/amd64: exited with code 0', 'linux/arm64: exited with code 0']
    });
  });

  it('each platform run pushes by digest and tags nothing; the merge tags one index of both, with annotations', async () => {
    const cache = new FakeCache();
    for (const arch of ['amd64', 'arm64'] as const) {
      const r = new FakeRunner(platformEngine(arch));
      const res = await runPipeline(buildPlan(tunnelOnly({ mode: 'platform' }), ctx, arch), r, hooks, env(cache));
      expect(res.error).toBeUndefined();
      expect(res.pushed).toBe(false);
      expect(res.pushedRefs).toEqual([]);
      expect(r.calls.some((c) => c[2] === 'create' && c[3] !== '--dry-run')).toBe(false);
      expect(res.images[0]?.digest).toBe(DIGEST(arch === 'amd64' ? 1 : 2));
    }
    expect(cache.entries.map((e) => e.key)).toEqual([
      handoffKey('991', handoffScope(['ghcr.io/example/tunnel']), 'linux/amd64', '1'),
      handoffKey('991', handoffScope(['ghcr.io/example/tunnel']), 'linux/arm64', '1')
    ]);
    expect(JSON.parse(cache.entries[1]?.content ?? '{}')).toEqual(
      record('linux/arm64', [
        {
          name: 'ghcr.io/example/tunnel',
          source: `ghcr.io/example/tunnel@${DIGEST(2)}`,
          smoke: 'passed',
          tested: DIGEST(6),
          passedBy: 'exited with code 0',
          exitCode: 0
        }
      ])
    );

    const r = new FakeRunner(platformEngine('amd64'));
    const res = await runPipeline(buildPlan(tunnelOnly({ mode: 'merge' }), ctx, 'amd64'), r, hooks, env(cache));
    expect(res.error).toBeUndefined();
    expect(r.calls.filter((c) => c[0] === 'buildx' && c[1] === 'build')).toEqual([]);
    expect(r.calls.filter((c) => c[0] === 'run')).toEqual([]);
    const creates = r.calls.filter((c) => c[2] === 'create' && c[3] !== '--dry-run');
    // The version tag, then (another call) the floating tag.
    expect(creates.map((c) => c.filter((a) => a.startsWith('--tag=')))).toEqual([
      ['--tag=ghcr.io/example/tunnel:v2.3.1'],
      ['--tag=ghcr.io/example/tunnel:latest']
    ]);
    expect(creates[0]?.slice(-2)).toEqual([`ghcr.io/example/tunnel@${DIGEST(1)}`, `ghcr.io/example/tunnel@${DIGEST(2)}`]);
    expect(creates[0]).toContain('--annotation=index:org.opencontainers.image.version=v2.3.1');
    expect(creates[0]).toContain(`--annotation=index:org.opencontainers.image.revision=${SHA}`);
    expect(res.pushed).toBe(true);
    expect(res.pushedRefs).toEqual(['ghcr.io/example/tunnel:v2.3.1', 'ghcr.io/example/tunnel:latest']);
    expect(res.images[0]).toMatchObject({
      smoke: 'passed',
      digest: DIGEST(9),
      tested: { 'linux/amd64': DIGEST(5), 'linux/arm64': DIGEST(6) }
    });
    expect(existsSync(join(homedir(), '.cache/go-docker-publish/handoff'))).toBe(false);
  });

  it('a platform run whose smoke test fails hands nothing over, and the merge fails naming image and platform, with no tag', async () => {
    const cache = new FakeCache();
    await runPipeline(
      buildPlan(tunnelOnly({ mode: 'platform' }), ctx, 'amd64'),
      new FakeRunner(platformEngine('amd64')),
      hooks,
      env(cache)
    );
    const failed = await runPipeline(
      buildPlan(tunnelOnly({ mode: 'platform' }), ctx, 'arm64'),
      new FakeRunner(platformEngine('arm64', 3)),
      hooks,
      env(cache)
    );
    expect(failed.error?.message).toMatch(/platform linux\/arm64: exited with code 3/);
    expect(cache.entries).toHaveLength(1);
    const r = new FakeRunner(platformEngine('amd64'));
    const res = await runPipeline(buildPlan(tunnelOnly({ mode: 'merge' }), ctx, 'amd64'), r, hooks, env(cache));
    expect(res.error?.message).toContain(
      'image ghcr.io/example/tunnel, platform linux/arm64: no platform run of this workflow run pushed it'
    );
    expect(res.error?.message).toContain('No tag was created.');
    expect(r.calls.some((c) => c[2] === 'create' && c[3] !== '--dry-run')).toBe(false);
    expect(res.pushedRefs).toEqual([]);
  });

  it('a re-run platform job (attempt 2) is found by the merge instead of the first attempt', async () => {
    const cache = new FakeCache();
    const tunnel = (d: string) => [{ name: 'ghcr.io/example/tunnel', source: `ghcr.io/example/tunnel@${d}`, smoke: 'passed' as const }];
    const scope = handoffScope(['ghcr.io/example/tunnel']);
    cache.entries.push(
      { key: handoffKey('991', scope, 'linux/amd64', '1'), content: JSON.stringify(record('linux/amd64', tunnel(DIGEST(1)))) },
      { key: handoffKey('991', scope, 'linux/arm64', '1'), content: JSON.stringify(record('linux/arm64', tunnel(DIGEST(3)))) },
      { key: handoffKey('991', scope, 'linux/arm64', '2'), content: JSON.stringify(record('linux/arm64', tunnel(DIGEST(2)))) }
    );
    const r = new FakeRunner(platformEngine('amd64'));
    const res = await runPipeline(buildPlan(tunnelOnly({ mode: 'merge' }), ctx, 'amd64'), r, hooks, env(cache, '2'));
    expect(res.error).toBeUndefined();
    expect(r.calls.find((c) => c[2] === 'create' && c[3] !== '--dry-run')?.slice(-1)).toEqual([`ghcr.io/example/tunnel@${DIGEST(2)}`]);
  });

  it('records: smoke: false is handed over as skipped; an image without the platform is not in its record', () => {
    const p = buildPlan(inputs({ mode: 'platform' }), ctx, 'amd64');
    const recs = handoffRecords(
      p,
      [['t@sha256:1'], ['w@sha256:2']],
      [{ image: 'ghcr.io/example/tunnel', platform: 'linux/amd64', status: 'passed', imageId: 'i' }],
      { id: '7', sha: SHA }
    );
    expect(recs).toEqual([
      record(
        'linux/amd64',
        [
          { name: 'ghcr.io/example/tunnel', source: 't@sha256:1', smoke: 'passed', tested: 'i' },
          { name: 'ghcr.io/example/web', source: 'w@sha256:2', smoke: 'skipped' }
        ],
        { run: '7' }
      )
    ]);
  });
});
