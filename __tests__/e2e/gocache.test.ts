// The Go cache round trip, for real: run 1 compiles cold and its post step saves the builder's Go
// cache mounts with @actions/cache (to a local cache service); the builder is emptied; run 2
// restores them before its build, and its Go compile (not a layer-cache hit: cache: none) reuses
// the restored build cache: `go build -v` lists the packages it compiles, and run 2 lists none.
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startCacheServer, type CacheServer } from '../support/gha-cache-server.js';
import { docker, FIXTURE, LOCAL_BASE_ARGS, REGISTRY, runAction, uniqueRepo, type ActionRun } from './harness.js';

/** Lines of the Go compile step's output ("#N 1.234 runtime") in a plain-progress build log. */
function compiledPackages(log: string): string[] {
  const step = /^#(\d+) \[build \d\/\d\] RUN --mount=type=cache/m.exec(log)?.[1];
  if (!step) return [];
  return log
    .split('\n')
    .map((l) => new RegExp(`^#${step} \\d+\\.\\d+ ([a-z][\\w./-]*)$`).exec(l)?.[1])
    .filter((p): p is string => p !== undefined);
}

describe('Go cache: saved by post, restored into an empty builder', () => {
  const ns = uniqueRepo('gocache');
  const workspace = mkdtempSync(join(tmpdir(), 'gdp-gocache-'));
  let cache: CacheServer;
  const runs: ActionRun[] = [];
  let savedByFirst: string[] = [];
  const run = (): Promise<ActionRun> =>
    runAction({
      inputs: {
        images: `- name: ${REGISTRY}/${ns}/server\n  smoke: ["--version"]`,
        platforms: 'linux/amd64',
        cache: 'none',
        push: 'false',
        'build-args': LOCAL_BASE_ARGS
      },
      event: 'release-published.json',
      eventName: 'release',
      ref: 'refs/tags/v2.3.1',
      cwd: workspace,
      env: { ACTIONS_CACHE_URL: cache.url, ACTIONS_RUNTIME_TOKEN: cache.token }
    });

  beforeAll(
    async () => {
      // A copy of the fixture whose compile step prints the packages it compiles (go build -v).
      cpSync(FIXTURE, workspace, { recursive: true });
      const df = join(workspace, 'Dockerfile');
      writeFileSync(df, readFileSync(df, 'utf8').replace('go build -trimpath', 'go build -v -trimpath'));
      cache = await startCacheServer();
      expect(docker(['builder', 'prune', '--all', '--force']).status).toBe(0);
      runs.push(await run());
      savedByFirst = cache.entries().filter((k) => k.startsWith('gdp-go-'));
      expect(docker(['builder', 'prune', '--all', '--force']).status).toBe(0);
      runs.push(await run());
    },
    15 * 60 * 1000
  );

  afterAll(async () => {
    await cache?.close();
  });

  it('both runs succeed, and the Dockerfile check finds the cache mounts and nothing wrong', () => {
    for (const r of runs) expect(r.status === 0 ? '' : r.stdout.split('\n').slice(-30).join('\n')).toBe('');
    expect(runs[0]?.stdout).toContain('no findings');
  });

  it('run 1 finds nothing to restore, compiles cold, and its post step saves the Go cache', () => {
    const first = runs[0]!;
    expect(first.summary).toContain('cold: nothing restored');
    expect(compiledPackages(first.stdout)).toEqual(expect.arrayContaining(['runtime', 'fmt', 'example.com/tunnel/cmd/server']));
    expect(first.post?.stdout).toMatch(/Go cache of .*server: saved [\d.]+ MB as gdp-go-/);
    expect(savedByFirst).toHaveLength(1);
  });

  it('run 2, on an empty builder, restores it, and its compile reuses it: no package is compiled again', () => {
    const second = runs[1]!;
    const saved = savedByFirst[0] ?? '?';
    expect(second.stdout).toContain(`Go cache of ${REGISTRY}/${ns}/server: restored ${saved}`);
    expect(second.summary).toContain(`restored ${saved}`);
    // The compile step ran (not CACHED: the builder was emptied and there is no layer cache)…
    expect(second.stdout).toMatch(/#(\d+) \[build \d\/\d\] RUN --mount=type=cache[^\n]*\n(?!#\1 CACHED)/);
    // …and go build -v had nothing to compile.
    expect(compiledPackages(second.stdout)).toEqual([]);
    // Nothing new was compiled: its post step does not save the same cache again.
    expect(second.post?.stdout).toContain(`unchanged since ${saved}: not saved again`);
    expect(cache.entries().filter((k) => k.startsWith('gdp-go-'))).toEqual(savedByFirst);
  });
});
