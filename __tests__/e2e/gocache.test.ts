// The Go cache round trip, for real, through the cache service v2 as github.com runs it: run 1
// compiles cold and its post step saves the builder's Go cache mounts with @actions/cache (to the
// local cache service); run 2, in a builder of its own (empty, as on a fresh hosted runner),
// restores them before its build (and run 3 again after a .go change), and its Go compile (not a layer-cache hit: cache: none) reuses
// the restored build cache: `go build -v` lists the packages it compiles, and run 2 lists none.
// Then the same for a Dockerfile without cache mounts, released twice: the action builds it from a
// derived Dockerfile with the mounts added, so the second release (a new -X main.version) only
// links; go-cache: false builds it as written and pushes the same per-platform digests.
import { appendFileSync, cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startCacheServer, type CacheServer } from '../support/gha-cache-server.js';
import {
  docker,
  FIXTURE,
  LOCAL_BASE_ARGS,
  localPublishInputs,
  platformManifests,
  REGISTRY,
  runAction,
  uniqueRepo,
  type ActionRun
} from './harness.js';

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

/** The tool runs (`go build -x`) of the Go compile step in a plain-progress build log: compile, asm, link. */
function toolRuns(log: string): { compile: number; link: number } {
  const step = /^#(\d+) \[build \d\/\d\] RUN [^\n]*go build/m.exec(log)?.[1];
  const lines = step ? log.split('\n').filter((l) => l.startsWith(`#${step} `)) : [];
  const count = (tool: string): number => lines.filter((l) => new RegExp(`/pkg/tool/\\w+/${tool} `).test(l)).length;
  return { compile: count('compile'), link: count('link') };
}

/** The Go build ID and the GNU build ID note (both hash the link's flags) blanked: what else differs is the binary's content. */
function withoutBuildIds(bin: Buffer): Buffer {
  const b = Buffer.from(bin);
  const go = b.indexOf('Go\0\0');
  const id = go < 0 ? -1 : b.indexOf(0, go + 4);
  if (go < 0 || id < 0) throw new Error('no Go build ID note in the binary');
  b.fill(0, go + 4, id);
  const gnu = b.indexOf(Buffer.from([0x14, 0, 0, 0, 3, 0, 0, 0, 0x47, 0x4e, 0x55, 0]));
  if (gnu >= 0) b.fill(0, gnu + 12, gnu + 32);
  return b;
}

describe('A release of a Dockerfile without cache mounts relinks only: the derived Dockerfile', () => {
  const ns = uniqueRepo('relink');
  const repo = `${ns}/server`;
  const workspace = mkdtempSync(join(tmpdir(), 'gdp-relink-'));
  let cache: CacheServer;
  const runs: ActionRun[] = [];
  const digests: Record<string, string>[] = [];
  const binaries: Buffer[] = [];
  const layers: string[][] = [];
  let savedByFirst: string[] = [];
  const release = (version: string, goCache = 'auto'): Promise<ActionRun> =>
    runAction({
      inputs: {
        images: `- name: ${REGISTRY}/${repo}\n  smoke: ["--version"]`,
        platforms: 'linux/amd64',
        cache: 'none',
        version,
        'go-cache': goCache,
        ...localPublishInputs(),
        // The workspace is no git checkout: the commit time the action would take from git.
        'build-args': `${LOCAL_BASE_ARGS}\nSOURCE_DATE_EPOCH=1700000000`
      },
      event: 'release-published.json',
      eventName: 'release',
      ref: `refs/tags/${version}`,
      cwd: workspace,
      env: cache.env('v2')
    });
  /** The image the run pushed (the engine keeps no tag of what it smoke-tested): its layers and its binary. */
  const tested = (version: string): void => {
    const ref = `${REGISTRY}/${repo}:${version}`;
    expect(docker(['pull', '--platform=linux/amd64', ref]).status).toBe(0);
    layers.push(JSON.parse(docker(['image', 'inspect', '--format={{json .RootFS.Layers}}', ref]).out) as string[]);
    const name = `gdp-relink-${Date.now()}`;
    expect(docker(['create', `--name=${name}`, ref]).status).toBe(0);
    const out = join(workspace, `${name}.bin`);
    expect(docker(['cp', `${name}:/usr/local/bin/server`, out]).status).toBe(0);
    docker(['rm', name]);
    binaries.push(readFileSync(out));
  };

  beforeAll(
    async () => {
      // The fixture as most Dockerfiles are: no cache mounts; go build -x prints each tool it runs.
      cpSync(FIXTURE, workspace, { recursive: true });
      const df = join(workspace, 'Dockerfile');
      const plain = readFileSync(df, 'utf8')
        .replace(/--mount=type=cache,target=\S+ \\\n\s+/g, '')
        .replace('go build -trimpath', 'go build -x -trimpath');
      expect(plain).not.toContain('--mount');
      writeFileSync(df, plain);
      cache = await startCacheServer();
      for (const [version, goCache] of [
        ['v2.3.1', 'auto'],
        ['v2.3.2', 'auto'],
        ['v2.3.2', 'false']
      ] as const) {
        const r = await release(version, goCache);
        if (r.status !== 0) throw new Error(`${version} (go-cache: ${goCache}) failed:\n${r.stdout.split('\n').slice(-40).join('\n')}`);
        runs.push(r);
        digests.push(await platformManifests(repo, version));
        if (goCache === 'auto') tested(version);
        if (runs.length === 1) savedByFirst = cache.entries().filter((k) => k.startsWith('gdp-go-'));
      }
    },
    15 * 60 * 1000
  );

  afterAll(async () => {
    await cache?.close();
  });

  it('the check annotates the go build with the mounts to add, and the run builds from a derived Dockerfile that adds them', () => {
    const [first] = runs;
    const line =
      readFileSync(join(workspace, 'Dockerfile'), 'utf8')
        .split('\n')
        .findIndex((l) => l.startsWith('RUN ')) + 1;
    // The mounts at the paths go env gives in the stage's image (Debian's Go: no GOPATH, so $HOME/go).
    const mounts = '--mount=type=cache,target=/root/.cache/go-build --mount=type=cache,target=/root/go/pkg/mod';
    expect(first?.stdout).toContain(
      `::notice title=Dockerfile check (go-cache-mount-missing),file=Dockerfile,line=${line}::${REGISTRY}/${repo}: Dockerfile:${line}: stage "build" runs go build`
    );
    expect(first?.stdout).toContain(`this run builds from a derived copy of the Dockerfile that adds ${mounts} to that RUN`);
    // Once: the check leaves the annotation to the phase that knows the stage's paths.
    expect(first?.stdout.match(/::notice title=Dockerfile check \(go-cache-mount-missing\)/g)).toHaveLength(1);
    expect(first?.stdout).toMatch(
      new RegExp(`Derived Dockerfile of ${REGISTRY}/${repo}: Dockerfile with Go cache mounts added .*\n  line ${line}: ${mounts}\n`)
    );
    expect(first?.stdout).toMatch(
      /^#\d+ \[build \d\/\d\] RUN --mount=type=cache,target=\/root\/.cache\/go-build --mount=type=cache,target=\/root\/go\/pkg\/mod CGO_ENABLED=0/m
    );
    expect(first?.summary).toContain(`derived Dockerfile: line ${line}: ${mounts}`);
  });

  it('release 1 compiles cold and its post step saves the Go cache through v2', () => {
    const [first] = runs;
    expect(first?.summary).toContain('cold: nothing restored');
    expect(toolRuns(first?.stdout ?? '').compile).toBeGreaterThan(10);
    expect(first?.post?.stdout).toMatch(/Go cache of .*server: saved [\d.]+ MB as gdp-go-/);
    expect(savedByFirst).toHaveLength(1);
  });

  it('release 2 (a new version, the same commit, a new builder) restores it, and its go build only links', () => {
    const second = runs[1]!;
    const saved = savedByFirst[0] ?? '?';
    expect(second.stdout).toContain(`Go cache of ${REGISTRY}/${repo}: restored ${saved}`);
    expect(second.stdout).toMatch(/Builder: created "go-docker-publish-/);
    // The step ran (a new VERSION is no layer-cache hit), and ran no compiler: one link.
    expect(toolRuns(second.stdout)).toEqual({ compile: 0, link: 1 });
    expect(second.stdout).toContain('server v2.3.2 linux/amd64');
  });

  it('both releases’ files are the same but for the version string', () => {
    const [a, b] = layers;
    expect(a?.length).toBeGreaterThan(1);
    // Every layer of the base image is the same; the last one holds only the binary.
    expect(b?.slice(0, -1)).toEqual(a?.slice(0, -1));
    const [one, two] = binaries.map(withoutBuildIds);
    expect(one?.length).toBe(two?.length);
    expect(one?.indexOf('v2.3.1')).toBeGreaterThan(0);
    const blank = (bin: Buffer | undefined, version: string): Buffer =>
      Buffer.from((bin ?? Buffer.alloc(0)).toString('latin1').replaceAll(version, 'vX.X.X'), 'latin1');
    expect(blank(one, 'v2.3.1').equals(blank(two, 'v2.3.2'))).toBe(true);
    expect(one?.equals(two ?? Buffer.alloc(0))).toBe(false);
  });

  it('go-cache: false builds the Dockerfile as written, and pushes the same per-platform digests as the derived one', () => {
    const plain = runs[2]!;
    expect(plain.stdout).not.toContain('Derived Dockerfile of');
    expect(plain.stdout).toMatch(/^#\d+ \[build \d\/\d\] RUN CGO_ENABLED=0/m);
    expect(plain.summary).toContain('none (the Dockerfile as written)');
    expect(Object.keys(digests[2] ?? {})).toEqual(['linux/amd64']);
    expect(digests[2]).toEqual(digests[1]);
    expect(digests[1]).not.toEqual(digests[0]);
  });
});
