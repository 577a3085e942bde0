// Floating tags never move backwards, against the real registry: v2.3.1, then backports v1.9.5
// and v2.2.9, then v2.3.2. Each tag is checked by digest: the one the run that should own it
// reported. A dry run that can read the registry says what it would leave.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import {
  docker,
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

// Two releases at once, for real: the fault proxy holds one release's write of `latest` (after it
// decided to move it) until the other has finished, in both orders; every floating tag ends on the
// newer version, and each run's outputs list only the tags it left in place. The first pair runs as
// two matrix jobs of one workflow run (the same GITHUB_RUN_ID and GITHUB_JOB) on one engine: each
// creates and removes a builder of its own. A one-line Dockerfile on the busybox base: nothing to
// compile, the versions differ by their labels.
describe(`releases at once: floating tags converge (${ENGINE} image store)`, () => {
  const repo = `${uniqueRepo('race')}/app`;
  const workspace = mkdtempSync(join(tmpdir(), 'gdp-race-'));
  writeFileSync(join(workspace, 'Dockerfile'), 'ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\n');
  const runId = `${Date.now()}7`;
  const job = { GITHUB_RUN_ID: runId, GITHUB_RUN_ATTEMPT: '1', GITHUB_JOB: 'publish' };
  let proxy: FaultProxy;
  const runs: Record<string, ActionRun> = {};
  let buildersWhileHeld: string[] = [];
  /** What the floating tags held once the first pair had finished. */
  const afterFirst: Record<string, string | null> = {};
  const builders = (): string[] =>
    docker(['buildx', 'ls', '--format', '{{.Name}}'])
      .out.split('\n')
      // Builders only: `buildx ls` also lists each builder's node (<name>0).
      .filter((n) => new RegExp(`^go-docker-publish-${runId}-1-[0-9a-f]{8}$`).test(n));

  const publish = (version: string, registry: string, env: Record<string, string> = {}): Promise<ActionRun> =>
    runAction({
      inputs: {
        images: `- name: ${registry}/${repo}\n  smoke: ["true"]`,
        platforms: 'linux/amd64',
        cache: 'none',
        'semver-tags': 'true',
        ...localPublishInputs(),
        registry
      },
      event: releaseEvent(version),
      eventName: 'release',
      ref: `refs/tags/${version}`,
      cwd: workspace,
      env
    });
  /** Holds `version`'s PUT of latest at the proxy, runs `other` to the end meanwhile, then lets it go. */
  const interleave = async (held: string, other: string, env: Record<string, string> = {}): Promise<void> => {
    const hold = proxy.hold({
      method: 'PUT',
      path: /\/manifests\/latest$/,
      body: new RegExp(`"org\\.opencontainers\\.image\\.version":\\s*"${held.replace(/\./g, '\\.')}"`),
      timeoutMs: 5 * 60 * 1000
    });
    const first = publish(held, proxy.address, env);
    await hold.arrived;
    runs[other] = await publish(other, REGISTRY, env);
    if (Object.keys(env).length > 0) buildersWhileHeld = builders();
    await hold.release();
    runs[held] = await first;
  };
  const tagsOf = (r: ActionRun | undefined, out: 'pushed-tags' | 'tags'): string[] =>
    (r?.outputs[out] ?? '').split('\n').map((t) => t.split(':').pop() ?? '');
  const digestOf = (r: ActionRun | undefined): string => (JSON.parse(r?.outputs.images ?? '[]') as { digest: string }[])[0]?.digest ?? '';
  const tagDigest = async (tag: string): Promise<string | null> => (await registryGet(`${repo}/manifests/${tag}`)).digest;

  beforeAll(
    async () => {
      proxy = await startFaultProxy();
      // The older release held: v3.0.9 decided to move latest (from nothing) and writes it after v3.1.0 finished.
      await interleave('v3.0.9', 'v3.1.0', job);
      for (const tag of ['latest', '3', '3.1', '3.0']) afterFirst[tag] = await tagDigest(tag);
      // The newer release held: v3.2.0 writes latest after v3.1.5 finished.
      await interleave('v3.2.0', 'v3.1.5');
      for (const [v, r] of Object.entries(runs)) {
        if (r.status !== 0) throw new Error(`${v} failed:\n${r.stdout.split('\n').slice(-30).join('\n')}`);
      }
    },
    10 * 60 * 1000
  );
  afterAll(async () => {
    await proxy?.close();
  });

  it('the older release written last: latest, 3 and 3.1 end on v3.1.0; v3.0.9 moves latest back, naming both versions', async () => {
    const older = runs['v3.0.9'];
    const newer = digestOf(runs['v3.1.0']);
    expect(afterFirst).toEqual({ latest: newer, '3': newer, '3.1': newer, '3.0': digestOf(older) });
    expect(older?.stdout).toContain(
      `${proxy.address}/${repo}:latest moved back to 3.1.0 (${proxy.address}/${repo}:v3.1.0): it held v3.0.9`
    );
    expect(older?.stdout).toContain(`${proxy.address}/${repo}:3 holds v3.1.0 now, written by another run after this one's v3.0.9`);
    expect(tagsOf(older, 'pushed-tags')).toEqual(['v3.0.9', '3.0.9', '3.0']);
    expect(tagsOf(older, 'tags')).toEqual(['v3.0.9', '3.0.9', '3.0']);
    expect(tagsOf(runs['v3.1.0'], 'pushed-tags')).toEqual(['v3.1.0', '3.1.0', '3.1', '3', 'latest']);
  });

  it('the newer release written last: latest and 3 end on v3.2.0, 3.1 on v3.1.5; v3.1.5 had moved latest to v3.2.0 itself', async () => {
    const [d310, d315, d320] = ['v3.1.0', 'v3.1.5', 'v3.2.0'].map((v) => digestOf(runs[v]));
    expect(new Set([d310, d315, d320, digestOf(runs['v3.0.9'])]).size).toBe(4);
    for (const [tag, digest] of Object.entries({ latest: d320, '3': d320, '3.2': d320, '3.1': d315, 'v3.1.0': d310 })) {
      expect([tag, await tagDigest(tag)]).toEqual([tag, digest]);
    }
    expect(runs['v3.1.5']?.stdout).toContain(`${REGISTRY}/${repo}:latest moved back to 3.2.0 (${REGISTRY}/${repo}:v3.2.0): it held v3.1.5`);
    expect(tagsOf(runs['v3.1.5'], 'pushed-tags')).toEqual(['v3.1.5', '3.1.5', '3.1']);
    expect(tagsOf(runs['v3.2.0'], 'pushed-tags')).toEqual(['v3.2.0', '3.2.0', '3.2', '3', 'latest']);
  });

  it('two matrix jobs of one workflow run on one engine: both publish, each in a builder of its own, and each post removes only its own', () => {
    const names = ['v3.0.9', 'v3.1.0'].map((v) => /Removed builder (go-docker-publish-\S+)/.exec(runs[v]?.post?.stdout ?? '')?.[1]);
    expect(names.every((n) => n?.startsWith(`go-docker-publish-${runId}-1-`))).toBe(true);
    expect(new Set(names).size).toBe(2);
    // v3.1.0 ran to its end (post included) while v3.0.9 was held at its tags: v3.0.9's builder was still there.
    expect(buildersWhileHeld).toEqual([names[0]]);
    expect(builders()).toEqual([]);
  });
});
