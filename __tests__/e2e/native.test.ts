// Native runners, for real: the test environment's two engines stand in for two runners of a
// matrix (the classic-store engine builds linux/amd64 natively; the containerd-store engine
// builds linux/arm64, under QEMU here), each running the bundled action with mode: platform
// against the test registry and the local cache service v2; then a merge run (mode: merge) with the
// same inputs and the same workflow run ID tags every image. This suite chooses its engines itself
// and runs once (jest.config.js).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startCacheServer, type CacheServer } from '../support/gha-cache-server.js';
import {
  ENGINE_HOSTS,
  LOCAL_BASE_ARGS,
  listTags,
  localPublishInputs,
  platformManifests,
  REGISTRY,
  registryGet,
  runAction,
  uniqueRepo,
  type ActionRun
} from './harness.js';

const SHA = '3f786850e387550fdab836ed7e6dc881de23001b';
const release = { event: 'release-published.json', eventName: 'release', ref: 'refs/tags/v2.3.1', sha: SHA };

describe('native runners: platform runs, then a merge', () => {
  let cache: CacheServer;
  beforeAll(async () => {
    cache = await startCacheServer();
  });
  afterAll(async () => {
    await cache?.close();
  });

  /** One job of the workflow run `runId`, on the engine standing in for its runner. */
  const job = (runId: string, engine: 'classic' | 'containerd', ns: string, inputs: Record<string, string>): Promise<ActionRun> =>
    runAction({
      inputs: {
        images: `- name: ${REGISTRY}/${ns}/server\n  smoke: ["--version"]`,
        platforms: 'linux/amd64,linux/arm64',
        'build-args': LOCAL_BASE_ARGS,
        cache: 'none',
        ...localPublishInputs(),
        ...inputs
      },
      ...release,
      env: { ...cache.env('v2'), GITHUB_RUN_ID: runId, DOCKER_HOST: ENGINE_HOSTS[engine] }
    });
  const ok = (r: ActionRun): string => (r.status === 0 ? '' : r.stdout.split('\n').slice(-25).join('\n'));
  const images = (r: ActionRun) =>
    JSON.parse(r.outputs.images ?? '[]') as {
      digest: string;
      smoke: string;
      tested: Record<string, string>;
      tags: string[];
      pushed: boolean;
    }[];

  it(
    'each runner pushes its platform by digest, untagged; the merge makes one index of both with every tag and the index annotations',
    async () => {
      const ns = uniqueRepo('native');
      const runId = `${Date.now()}1`;
      const amd = await job(runId, 'classic', ns, { mode: 'platform' });
      expect(ok(amd)).toBe('');
      const arm = await job(runId, 'containerd', ns, { mode: 'platform', 'build-platforms': 'linux/arm64' });
      expect(ok(arm)).toBe('');
      // No tag yet: the platform runs pushed by digest only, and say so.
      expect(await listTags(`${ns}/server`)).toEqual([]);
      for (const r of [amd, arm]) {
        expect(r.outputs.pushed).toBe('false');
        expect(r.outputs.tags).toBe('');
        expect(r.summary).toContain('Pushed by digest, untagged: the merge job (mode: merge) tags every image');
      }
      const [amdImage] = images(amd);
      const [armImage] = images(arm);
      expect(Object.keys(amdImage?.tested ?? {})).toEqual(['linux/amd64']);
      expect(Object.keys(armImage?.tested ?? {})).toEqual(['linux/arm64']);
      expect(arm.stdout).toContain('server v2.3.1 linux/arm64'); // the arm64 binary ran its smoke test (under QEMU here)

      const merge = await job(runId, 'classic', ns, { mode: 'merge' });
      expect(ok(merge)).toBe('');
      // Nothing was built or run in the merge job.
      expect(merge.stdout).not.toMatch(/Smoke test|Building /);
      expect(await listTags(`${ns}/server`)).toEqual(['latest', 'v2.3.1']);

      // The index holds, per platform, the manifest each platform run pushed (and reported).
      const merged = await platformManifests(`${ns}/server`, 'v2.3.1');
      const pushedBy = async (digest: string | undefined) => platformManifests(`${ns}/server`, digest ?? 'none');
      expect(merged).toEqual({ ...(await pushedBy(amdImage?.digest)), ...(await pushedBy(armImage?.digest)) });
      expect(Object.keys(merged).sort()).toEqual(['linux/amd64', 'linux/arm64']);
      const latest = await registryGet(`${ns}/server/manifests/latest`);
      const tagged = await registryGet(`${ns}/server/manifests/v2.3.1`);
      expect(latest.digest).toBe(tagged.digest);

      // Index-level annotations, where GHCR reads a multi-arch image's description.
      expect((tagged.json as { annotations?: Record<string, string> }).annotations).toEqual(
        expect.objectContaining({
          'org.opencontainers.image.description': 'SSH tunnels in a container',
          'org.opencontainers.image.source': 'https://github.com/example/tunnel',
          'org.opencontainers.image.version': 'v2.3.1',
          'org.opencontainers.image.revision': SHA,
          'org.opencontainers.image.licenses': 'MIT'
        })
      );

      // The merge reports as a single-runner publish does: the tested images of both runners.
      const [m] = images(merge);
      expect(m).toMatchObject({ smoke: 'passed', digest: tagged.digest, pushed: true });
      expect(m?.tested).toEqual({ ...amdImage?.tested, ...armImage?.tested });
      expect(merge.outputs.pushed).toBe('true');
      expect(merge.outputs.tags?.split('\n').sort()).toEqual([`${REGISTRY}/${ns}/server:latest`, `${REGISTRY}/${ns}/server:v2.3.1`]);
      expect(merge.summary).toContain('linux/amd64: image');
      expect(merge.summary).toContain('linux/arm64: image');
    },
    15 * 60 * 1000
  );

  it(
    'a platform run whose smoke test fails: the merge fails naming the image and platform, and creates no tag',
    async () => {
      const ns = uniqueRepo('nativefail');
      const runId = `${Date.now()}2`;
      const amd = await job(runId, 'classic', ns, { mode: 'platform' });
      expect(ok(amd)).toBe('');
      const arm = await job(runId, 'containerd', ns, {
        mode: 'platform',
        'build-platforms': 'linux/arm64',
        images: `- name: ${REGISTRY}/${ns}/server\n  smoke: ["--fail"]`
      });
      expect(arm.status).toBe(1);
      expect(arm.stdout).toContain(`Smoke test failed: image ${REGISTRY}/${ns}/server, platform linux/arm64: exited with code 3`);
      const merge = await job(runId, 'classic', ns, { mode: 'merge' });
      expect(merge.status).toBe(1);
      expect(merge.stdout).toContain(
        `image ${REGISTRY}/${ns}/server, platform linux/arm64: no platform run of this workflow run pushed it`
      );
      expect(merge.stdout).not.toContain(`image ${REGISTRY}/${ns}/server, platform linux/amd64:`);
      expect(merge.stdout).toContain('No tag was created.');
      expect(await listTags(`${ns}/server`)).toEqual([]);
      expect(merge.outputs.pushed).toBe('false');
      expect(merge.outputs['pushed-tags']).toBe('');
    },
    15 * 60 * 1000
  );
  it(
    'the cache refuses the hand-off (429, then "reserve" refused): the platform run tries 3 times, leaves its record in the registry, and the merge tags from it',
    async () => {
      const ns = uniqueRepo('nativerefused');
      const runId = `${Date.now()}3`;
      // One line on the busybox base: nothing to compile; one platform is enough.
      const workspace = mkdtempSync(join(tmpdir(), 'gdp-native-refused-'));
      writeFileSync(join(workspace, 'Dockerfile'), 'ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\n');
      const small = (mode: string): Promise<ActionRun> =>
        runAction({
          inputs: {
            images: `- name: ${REGISTRY}/${ns}/app\n  smoke: ["true"]`,
            platforms: 'linux/amd64',
            cache: 'none',
            ...localPublishInputs(),
            mode
          },
          ...release,
          cwd: workspace,
          env: { ...cache.env('v2'), GITHUB_RUN_ID: runId, DOCKER_HOST: ENGINE_HOSTS.classic }
        });
      const handoff = 'go-docker-publish-handoff-';
      cache.refuse({ kind: 'rate-limited', times: 1, keyPrefix: handoff });
      cache.refuse({ kind: 'not-ok', keyPrefix: handoff });
      let platform: ActionRun;
      try {
        platform = await small('platform');
      } finally {
        cache.clearRefusals();
      }
      expect(ok(platform)).toBe('');
      expect(cache.refused()).toEqual({ 'rate-limited': 1, 'not-ok': 2 });
      expect(cache.entries().filter((k) => k.startsWith(`${handoff}${runId}-`))).toEqual([]);
      expect(platform.stdout).toMatch(
        /::warning::The GitHub Actions cache did not take the hand-off record of linux\/amd64 \(the cache service refused to reserve the entry[^)]*\)[^\n]*it is in the registry instead/
      );
      const [pushed] = images(platform);

      const merge = await small('merge');
      expect(ok(merge)).toBe('');
      expect(merge.stdout).toContain("linux/amd64: no record in the Actions cache; the platform run's record in the registry");
      expect(merge.stdout).not.toContain('no platform run of this workflow run pushed it');
      const tags = await listTags(`${ns}/app`);
      expect(tags.filter((t) => !t.startsWith('gdp-handoff-'))).toEqual(['latest', 'v2.3.1']);
      // The tag is an index of what the platform run pushed and tested.
      expect(await platformManifests(`${ns}/app`, 'v2.3.1')).toEqual(await platformManifests(`${ns}/app`, pushed?.digest ?? 'none'));
      expect(images(merge)[0]?.tested).toEqual(pushed?.tested);
    },
    10 * 60 * 1000
  );
});
