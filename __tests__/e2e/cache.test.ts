// The gha cache for real, as github.com runs it: the action's builds export to a local server that
// speaks the cache service v2 (Twirp + Azure-style blobs; ACTIONS_CACHE_SERVICE_V2,
// ACTIONS_RESULTS_URL). A second run on the same commit, in a builder of its own (empty), gets its
// layers from that server: its Go compile steps are CACHED, and it pushes the same digests.
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startCacheServer, type CacheServer } from '../support/gha-cache-server.js';
import { docker, localPublishInputs, platformManifests, REGISTRY, ROOT, runAction, uniqueRepo, type ActionRun } from './harness.js';

describe('gha cache: two runs of the same commit', () => {
  const ns = uniqueRepo('cache');
  const repos = [`${ns}/server`, `${ns}/web`];
  const sha = execFileSync('git', ['-C', ROOT, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
  let cache: CacheServer;
  const runs: ActionRun[] = [];
  const digests: Record<string, string>[][] = [];
  let statsAfterFirst: CacheServer['stats'];
  let servedToFirst = 0;
  const run = (): Promise<ActionRun> =>
    runAction({
      inputs: {
        images: `
- name: ${REGISTRY}/${ns}/server
  smoke: ["--version"]
- name: ${REGISTRY}/${ns}/web
  dockerfile: Dockerfile.web
  smoke: ["--version"]
`,
        platforms: 'linux/amd64,linux/arm64',
        ...localPublishInputs(),
        cache: 'gha'
      },
      event: 'release-published.json',
      eventName: 'release',
      ref: 'refs/tags/v2.3.1',
      sha,
      env: cache.env('v2')
    });
  /** Empties the builder: no build cache, no image of this test in the image store. */
  const emptyBuilder = (): void => {
    expect(docker(['builder', 'prune', '--all', '--force']).status).toBe(0);
    for (const r of repos) for (const t of ['v2.3.1', 'latest']) docker(['image', 'rm', '--force', `${REGISTRY}/${r}:${t}`]);
  };

  const checked = async (p: Promise<ActionRun>): Promise<ActionRun> => {
    const r = await p;
    if (r.status !== 0) throw new Error(`the action failed (${r.status}):\n${r.stdout.split('\n').slice(-40).join('\n')}`);
    return r;
  };

  beforeAll(
    async () => {
      cache = await startCacheServer();
      emptyBuilder();
      runs.push(await checked(run()));
      digests.push(await Promise.all(repos.map((r) => platformManifests(r, 'v2.3.1'))));
      statsAfterFirst = { ...cache.stats };
      servedToFirst = cache.served.length;
      emptyBuilder();
      runs.push(await checked(run()));
      digests.push(await Promise.all(repos.map((r) => platformManifests(r, 'v2.3.1'))));
    },
    20 * 60 * 1000
  );

  afterAll(async () => {
    await cache?.close();
  });

  it('both runs succeed and push', () => {
    for (const r of runs) {
      expect(r.stdout).not.toMatch(/::error::/);
      expect(r.status).toBe(0);
      expect(r.outputs.pushed).toBe('true');
    }
  });

  it('the first run saved the cache of each image under its own scope', () => {
    const keys = cache.entries().join('\n');
    for (const r of repos) expect(keys).toContain(`${REGISTRY}/${r}`.replace(/[^a-z0-9._-]+/g, '-'));
    expect(statsAfterFirst.committed).toBeGreaterThan(0);
  });

  it('the second run, on an empty builder, got its layers from the cache service v2', () => {
    const second = runs[1]!;
    expect(second.stdout).toContain('Cache: gha, through the cache service v2');
    expect(cache.served.every((s) => s.protocol === 'v2')).toBe(true);
    const served = cache.served.slice(servedToFirst);
    // Every image's cache index was found, and blobs were downloaded.
    for (const r of repos) {
      const scope = `${REGISTRY}/${r}`.replace(/[^a-z0-9._-]+/g, '-');
      expect(served.some((s) => s.op === 'lookup' && s.hit && s.key?.includes(scope))).toBe(true);
    }
    expect(served.filter((s) => s.op === 'download').length).toBeGreaterThan(0);
    expect(cache.stats.downloads).toBeGreaterThan(statsAfterFirst.downloads);
    // The job summary says how much came from the cache; the log shows the Go compile was not rerun.
    expect(second.summary).toMatch(/gha: [1-9]\d* of \d+ steps cached/);
    expect(second.stdout).toMatch(/#(\d+) \[[^\]]*build \d\/\d\] RUN --mount=type=cache[^\n]*\n#\1 CACHED/);
  });

  it('the second run pushes the same image digest for every platform', () => {
    expect(Object.keys(digests[0]![0]!).sort()).toEqual(['linux/amd64', 'linux/arm64']);
    expect(digests[1]).toEqual(digests[0]);
  });
});
