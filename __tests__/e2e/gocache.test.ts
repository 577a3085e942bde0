// The Go cache round trip, for real, through the cache service v2 as github.com runs it: run 1
// compiles cold and its post step saves the builder's Go cache mounts with @actions/cache (to the
// local cache service); run 2, in a builder of its own (empty, as on a fresh hosted runner),
// restores them before its build (and run 3 again after a .go change), and its Go compile (not a layer-cache hit: cache: none) reuses
// the restored build cache: `go build -v` lists the packages it compiles, and run 2 lists none.
import { appendFileSync, cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startCacheServer, type CacheServer } from '../support/gha-cache-server.js';
import { FIXTURE, LOCAL_BASE_ARGS, REGISTRY, runAction, uniqueRepo, type ActionRun } from './harness.js';

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
  let servedToFirst = 0;
  let servedToSecond = 0;
  let savedBySecond: string[] = [];
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
      env: cache.env('v2')
    });

  beforeAll(
    async () => {
      // A copy of the fixture whose compile step prints the packages it compiles (go build -v).
      cpSync(FIXTURE, workspace, { recursive: true });
      const df = join(workspace, 'Dockerfile');
      writeFileSync(df, readFileSync(df, 'utf8').replace('go build -trimpath', 'go build -v -trimpath'));
      cache = await startCacheServer();
      runs.push(await run());
      savedByFirst = cache.entries().filter((k) => k.startsWith('gdp-go-'));
      servedToFirst = cache.served.length;
      runs.push(await run());
      servedToSecond = cache.served.length;
      savedBySecond = cache.entries().filter((k) => k.startsWith('gdp-go-'));
      // Run 3: one .go file changed, again in a builder of its own.
      appendFileSync(
        join(workspace, 'cmd/server/main.go'),
        '\n// Changed exists so that the package compiles again.\nfunc Changed() int { return 3 }\n'
      );
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
    expect(savedBySecond).toEqual(savedByFirst);
  });

  it('run 3, one .go file changed, on an empty builder: the Go cache restored through v2, only the changed package compiles', () => {
    const third = runs[2]!;
    expect(third.status === 0 ? '' : third.stdout.split('\n').slice(-30).join('\n')).toBe('');
    expect(third.stdout).toMatch(new RegExp(`Go cache of ${REGISTRY}/${ns}/server: restored gdp-go-`));
    expect(compiledPackages(third.stdout)).toEqual(['example.com/tunnel/cmd/server']);
    // Something new was compiled: its post step saves the cache again, under run 3's key.
    expect(third.post?.stdout).toMatch(/Go cache of .*server: saved [\d.]+ MB as gdp-go-/);
    expect(cache.entries().filter((k) => k.startsWith('gdp-go-'))).toHaveLength(2);
    const saved = savedByFirst[0] ?? '?';
    expect(
      cache.served
        .slice(servedToSecond)
        .filter((s) => s.matched === saved || (s.op === 'download' && s.key === saved))
        .map((s) => [s.protocol, s.op, s.hit])
    ).toEqual([
      ['v2', 'lookup', true],
      ['v2', 'download', undefined]
    ]);
  });

  it('both went through the cache service v2: run 1 saved with it, run 2 found the entry and downloaded it', () => {
    const saved = savedByFirst[0] ?? '?';
    const first = cache.served.slice(0, servedToFirst);
    const second = cache.served.slice(servedToFirst, servedToSecond);
    expect(cache.served.every((s) => s.protocol === 'v2')).toBe(true);
    // Run 1 looked for it (a miss: nothing saved yet), then saved it.
    expect(first.filter((s) => s.key === saved).map((s) => [s.op, s.hit])).toEqual([
      ['lookup', false],
      ['create', undefined],
      ['upload', undefined],
      ['finalize', undefined]
    ]);
    // Run 2's own key names its run: it found run 1's entry through a restore key, then downloaded it.
    expect(second.filter((s) => s.matched === saved || s.key === saved).map((s) => [s.op, s.hit])).toEqual([
      ['lookup', true],
      ['download', undefined]
    ]);
  });
});
