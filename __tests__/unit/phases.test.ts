import { describe, expect, it } from '@jest/globals';
import { buildxBuildArgs, cacheArgs, loginArgs, smokeRunArgs } from '../../src/plan/commands.js';
import type { Plan, PlannedImage } from '../../src/plan/types.js';
import { chooseBuilder, parseInspect, type BuilderInfo } from '../../src/run/builder.js';
import { cacheErrors, countSteps } from '../../src/run/build.js';
import { runPipeline } from '../../src/run/pipeline.js';
import { parsePushDigest, platformSizes } from '../../src/run/push.js';
import { emulatedPlatforms } from '../../src/plan/platforms.js';
import { BINFMT_IMAGE, missingInterpreters, setupQemu } from '../../src/run/qemu.js';
import { summaryRows } from '../../src/report.js';
import { isTransient, withRetry } from '../../src/run/retry.js';
import type { ExecResult } from '../../src/run/runner.js';
import { FakeRunner } from '../support/fake-runner.js';
import { smokePlatforms } from '../../src/run/smoke.js';

const img = (over: Partial<PlannedImage> = {}): PlannedImage => ({
  name: 'ghcr.io/example/tunnel',
  repositories: ['ghcr.io/example/tunnel'],
  refs: ['ghcr.io/example/tunnel:v2.3.1', 'ghcr.io/example/tunnel:latest'],
  dockerfile: 'Dockerfile',
  context: '.',
  platforms: ['linux/amd64', 'linux/arm64'],
  buildArgs: { VERSION: 'v2.3.1' },
  labels: { 'org.opencontainers.image.version': 'v2.3.1' },
  smoke: { enabled: true, args: ['--version'], env: {}, timeoutSeconds: 60 },
  cacheScope: 'ghcr.io-example-tunnel',
  ...over
});

describe('command lines', () => {
  it.each([
    [
      'gha cache, load',
      img(),
      'gha' as const,
      [
        'buildx',
        'build',
        '--builder=default',
        '--platform=linux/amd64,linux/arm64',
        '--file=Dockerfile',
        '--tag=ghcr.io/example/tunnel:v2.3.1',
        '--tag=ghcr.io/example/tunnel:latest',
        '--label=org.opencontainers.image.version=v2.3.1',
        '--build-arg=VERSION=v2.3.1',
        '--cache-from=type=gha,scope=ghcr.io-example-tunnel',
        '--cache-to=type=gha,mode=max,scope=ghcr.io-example-tunnel,ignore-error=true',
        '--metadata-file=/tmp/m.json',
        '--load',
        '.'
      ]
    ],
    [
      'target, registry cache, context that looks like a flag',
      img({ target: 'final', context: '-rf', labels: {}, buildArgs: {}, refs: ['a/b:1'] }),
      'registry' as const,
      [
        'buildx',
        'build',
        '--builder=default',
        '--platform=linux/amd64,linux/arm64',
        '--file=Dockerfile',
        '--target=final',
        '--tag=a/b:1',
        '--cache-from=type=registry,ref=ghcr.io/example/tunnel:buildcache-ghcr.io-example-tunnel',
        '--cache-to=type=registry,ref=ghcr.io/example/tunnel:buildcache-ghcr.io-example-tunnel,mode=max,ignore-error=true',
        '--metadata-file=/tmp/m.json',
        '--load',
        './-rf'
      ]
    ]
  ])('buildx build: %s', (_what, image, cache, argv) => {
    const c = cacheArgs(cache, image);
    expect(
      buildxBuildArgs(image, {
        builder: 'default',
        platforms: image.platforms,
        cacheFrom: c.from,
        cacheTo: c.to,
        metadataFile: '/tmp/m.json',
        output: 'load'
      })
    ).toEqual(argv);
  });

  it('no cache means no cache flags', () => {
    expect(cacheArgs('none', img())).toEqual({ from: [], to: [] });
  });

  it('smoke run and login', () => {
    expect(
      smokeRunArgs(
        'a/b:1',
        'linux/arm64',
        { enabled: true, args: ['-x', '$(id)'], env: { K: 'v' }, entrypoint: '/bin/sh', timeoutSeconds: 1 },
        'c1'
      )
    ).toEqual([
      'run',
      '--rm',
      '--name=c1',
      '--platform=linux/arm64',
      '--pull=never',
      '--env=K=v',
      '--entrypoint=/bin/sh',
      'a/b:1',
      '-x',
      '$(id)'
    ]);
    expect(loginArgs('ghcr.io', 'me')).toEqual(['login', '--username=me', '--password-stdin', 'ghcr.io']);
  });
});

describe('builder choice', () => {
  const inspect = 'Name:          default\nDriver:        docker\nLast Activity: 2026-11-22\n\nNodes:\nName:             default\n';
  it('parses docker buildx inspect', () => {
    expect(parseInspect(inspect)).toEqual({ name: 'default', driver: 'docker' });
  });
  it.each([
    ['auto', { name: 'default', driver: 'docker' }, true, { name: 'default', create: false }],
    ['auto', { name: 'default', driver: 'docker' }, false, { name: 'new', create: true }],
    ['auto', { name: 'builder-1', driver: 'docker-container' }, false, { name: 'builder-1', create: false }],
    ['docker-container', { name: 'default', driver: 'docker' }, true, { name: 'new', create: true }],
    ['docker', { name: 'x', driver: 'docker-container' }, false, { name: 'default', create: false }]
  ] as [Parameters<typeof chooseBuilder>[0], BuilderInfo, boolean, { name: string; create: boolean }][])(
    '%s with %j, containerd store %s',
    (mode, current, store, want) => {
      const c = chooseBuilder(mode, current, store, 'new');
      expect({ name: c.name, create: c.create }).toEqual(want);
      expect(c.reason).not.toBe('');
    }
  );
});

describe('qemu', () => {
  it('emulates only what the host cannot run', () => {
    expect(emulatedPlatforms(['linux/amd64', 'linux/386', 'linux/arm64', 'linux/arm/v7'], 'amd64')).toEqual([
      'linux/arm64',
      'linux/arm/v7'
    ]);
    expect(emulatedPlatforms(['linux/amd64', 'linux/arm64', 'linux/arm/v7'], 'arm64')).toEqual(['linux/amd64']);
  });
  it('finds interpreters missing or disabled in binfmt_misc', () => {
    const entries: Record<string, string> = {
      'qemu-aarch64': 'enabled\ninterpreter /usr/bin/qemu-aarch64\nflags: OCF\n',
      'qemu-riscv64': 'disabled\n'
    };
    expect(missingInterpreters(['linux/arm64', 'linux/riscv64', 'linux/s390x'], (n) => entries[n])).toEqual(['riscv64', 's390x']);
  });
});

describe('parsing docker output', () => {
  it('counts cached steps in plain progress output', () => {
    const log = [
      '#5 [build 1/4] FROM gdp/golang',
      '#5 CACHED',
      '#6 [build 2/4] COPY go.mod',
      '#6 CACHED',
      '#7 [build 3/4] RUN go build',
      '#7 DONE 3.1s',
      '#8 [internal] load .dockerignore'
    ].join('\n');
    expect(countSteps(log)).toEqual({ cached: 2, total: 3 });
  });
  it('finds failed cache import and export steps (buildx 0.13 with ignore-error=true, cache service down)', () => {
    const log = [
      '#4 importing cache manifest from gha:13693230614255492665',
      '#4 ERROR: Get "http://127.0.0.1:1/_apis/artifactcache/cache?keys=index-t-1": dial tcp 127.0.0.1:1: connect: connection refused',
      '#6 [2/2] RUN echo 24123 > /n',
      '#6 DONE 0.2s',
      '#7 exporting to GitHub Actions Cache',
      '#7 preparing build cache for export 0.0s done',
      '#7 ERROR: error reserving cache: 503 Service Unavailable',
      '------'
    ].join('\n');
    expect(cacheErrors(log)).toEqual({
      import: 'Get "http://127.0.0.1:1/_apis/artifactcache/cache?keys=index-t-1": dial tcp 127.0.0.1:1: connect: connection refused',
      export: 'error reserving cache: 503 Service Unavailable'
    });
    expect(cacheErrors('#8 exporting cache to registry\n#8 DONE 0.3s\n#9 [1/2] RUN x\n#9 ERROR: process did not complete')).toEqual({});
  });
  it('reads the digest docker push prints', () => {
    expect(parsePushDigest(`v1: digest: sha256:${'a'.repeat(64)} size: 856\n`)).toBe(`sha256:${'a'.repeat(64)}`);
  });
  it('sizes per platform, without attestations', () => {
    const index = {
      manifests: [
        { digest: 'sha256:1', size: 1, platform: { os: 'linux', architecture: 'amd64' } },
        { digest: 'sha256:2', size: 1, platform: { os: 'linux', architecture: 'arm', variant: 'v7' } },
        { digest: 'sha256:3', size: 1, platform: { os: 'unknown', architecture: 'unknown' } }
      ]
    };
    const manifests = {
      'sha256:1': { config: { size: 10 }, layers: [{ size: 100 }, { size: 5 }] },
      'sha256:2': { config: { size: 1 }, layers: [{ size: 2 }] }
    };
    expect(platformSizes(index, manifests)).toEqual({ 'linux/amd64': 115, 'linux/arm/v7': 3 });
  });
  it('smoke-tests the native platform, or all', () => {
    expect(smokePlatforms(img(), 'native', 'amd64')).toEqual(['linux/amd64']);
    expect(smokePlatforms(img({ platforms: ['linux/arm64'] }), 'native', 'amd64')).toEqual(['linux/arm64']);
    expect(smokePlatforms(img(), 'all', 'amd64')).toEqual(['linux/amd64', 'linux/arm64']);
  });
});

const plan = (over: Partial<Plan> = {}): Plan => ({
  release: {
    version: 'v2.3.1',
    source: 'release',
    tags: ['v2.3.1', 'latest'],
    stable: true,
    pushByDefault: true,
    fromFork: false,
    notices: []
  },
  images: [
    img({ platforms: ['linux/amd64'] }),
    img({ name: 'ghcr.io/example/web', refs: ['ghcr.io/example/web:v2.3.1'], platforms: ['linux/amd64'], cacheScope: 'web' })
  ],
  push: true,
  pushReason: 'release',
  registries: [{ registry: 'ghcr.io', username: 'me', password: 'pw' }],
  cache: 'none',
  qemu: 'auto',
  builder: 'auto',
  smokePlatforms: 'native',
  goCache: 'auto',
  builderEndpoints: [],
  notices: [],
  ...over
});

const inspectAnswer = (args: string[]): Partial<ExecResult> => {
  if (args[1] === 'inspect') return { stdout: 'Name: default\nDriver: docker\n' };
  if (args[0] === 'info') return { stdout: '[["driver-type","io.containerd.snapshotter.v1"]]' };
  if (args[2] === 'inspect' && args.includes('--raw')) return { stdout: '{"manifests":[]}' };
  if (args[2] === 'inspect') return { stdout: `{"digest":"sha256:${'b'.repeat(64)}"}` };
  return {};
};

describe('pipeline with a fake runner', () => {
  const env = { runId: '1', ghaCacheAvailable: false };
  const hooks = { loggedIn: () => undefined, builderCreated: () => undefined };

  it('runs login → build → smoke → push, in that order, and reports the registry digest', async () => {
    const r = new FakeRunner(inspectAnswer);
    const res = await runPipeline(plan(), r, hooks, env);
    expect(res.error).toBeUndefined();
    expect(r.commands().filter((c) => !['buildx inspect', 'info', 'buildx imagetools'].includes(c))).toEqual([
      'login',
      'buildx build',
      'buildx build',
      'run',
      'run',
      'push',
      'push',
      'push'
    ]);
    expect(res.pushed).toBe(true);
    expect(res.images.map((i) => [i.smoke, i.digest])).toEqual([
      ['passed', `sha256:${'b'.repeat(64)}`],
      ['passed', `sha256:${'b'.repeat(64)}`]
    ]);
  });

  it('one failed smoke test: no push call at all, for any image, and the error names image, platform, exit code', async () => {
    const r = new FakeRunner((args) =>
      args[0] === 'run' && args.includes('ghcr.io/example/web:v2.3.1') ? { exitCode: 3, stderr: 'panic: boom\n' } : inspectAnswer(args)
    );
    const res = await runPipeline(plan(), r, hooks, env);
    expect(r.calls.some((c) => c[0] === 'push')).toBe(false);
    expect(res.pushed).toBe(false);
    expect(res.pushedRefs).toEqual([]);
    expect(res.error?.message).toMatch(/image ghcr\.io\/example\/web, platform linux\/amd64, exit code 3/);
    expect(res.error?.message).toContain('panic: boom');
    expect(res.images.map((i) => i.smoke)).toEqual(['passed', 'failed']);
  });

  it('push: false builds and smoke-tests everything, logs in nowhere, pushes nothing', async () => {
    const r = new FakeRunner(inspectAnswer);
    const res = await runPipeline(plan({ push: false, pushReason: 'push: false' }), r, hooks, env);
    expect(res.error).toBeUndefined();
    expect(r.commands()).not.toContain('login');
    expect(r.commands()).not.toContain('push');
    expect(r.commands().filter((c) => c === 'run')).toHaveLength(2);
    expect(res.pushed).toBe(false);
  });

  it('creates a docker-container builder when the current one cannot, and says so to post', async () => {
    const created: string[] = [];
    const r = new FakeRunner((args) => (args[0] === 'info' ? { stdout: '[]' } : inspectAnswer(args)));
    await runPipeline(plan({ push: false }), r, { ...hooks, builderCreated: (b) => created.push(b) }, env);
    expect(created).toEqual(['go-docker-publish-1']);
    expect(r.calls.find((c) => c[1] === 'create')).toContain('--driver=docker-container');
  });
});

describe('setupQemu with a fake runner', () => {
  it('installs only the missing interpreters with the pinned binfmt image', async () => {
    const r = new FakeRunner();
    const read = (n: string): string | undefined => (n === 'qemu-aarch64' ? 'enabled\n' : undefined);
    const emulated = await setupQemu('auto', ['linux/amd64', 'linux/arm64', 'linux/riscv64', 'linux/arm/v7'], r, read, 'amd64');
    expect(emulated).toEqual(['linux/arm64', 'linux/riscv64', 'linux/arm/v7']);
    expect(r.calls).toEqual([['run', '--privileged', '--rm', BINFMT_IMAGE, '--install=riscv64,arm']]);
    expect(BINFMT_IMAGE).toMatch(/^tonistiigi\/binfmt:qemu-v\d+\.\d+\.\d+/);
  });
  it('runs nothing when every interpreter is registered, or nothing needs emulation, or qemu: false', async () => {
    const r = new FakeRunner();
    await setupQemu('auto', ['linux/amd64', 'linux/arm64'], r, () => 'enabled\n', 'amd64');
    await setupQemu('auto', ['linux/amd64', 'linux/386'], r, () => undefined, 'amd64');
    await setupQemu('false', ['linux/arm64'], r, () => undefined, 'amd64');
    expect(r.calls).toEqual([]);
  });
});

describe('job summary', () => {
  it('has a row for each field, escaped', () => {
    const rows = summaryRows(
      {
        name: 'a/b',
        tags: ['a/b:<v>'],
        digest: 'sha256:1',
        platforms: ['linux/amd64', 'linux/arm64'],
        smoke: 'passed',
        size: { 'linux/amd64': 2_500_000 },
        buildSeconds: 3.21,
        cache: 'gha: 3 of 5 steps cached'
      },
      true
    );
    expect(rows.map((r) => r[0])).toEqual([
      'Platforms',
      'Size',
      'Digest',
      'Tags',
      'Smoke test',
      'Build time',
      'Cache',
      'Go cache',
      'Pushed'
    ]);
    expect(Object.fromEntries(rows)).toMatchObject({
      Size: 'linux/amd64: 2.50 MB',
      Tags: '<code>a/b:&lt;v&gt;</code>',
      'Build time': '3.2 s',
      Pushed: 'yes'
    });
  });
});

describe('pipeline without the containerd image store', () => {
  it('stops before any build, login or push when an image has several platforms', async () => {
    const r = new FakeRunner((args) => (args[0] === 'info' ? { stdout: '[]' } : inspectAnswer(args)));
    const p = plan();
    p.images[0]!.platforms = ['linux/amd64', 'linux/arm64'];
    const res = await runPipeline(
      p,
      r,
      { loggedIn: () => undefined, builderCreated: () => undefined },
      { runId: '1', ghaCacheAvailable: false }
    );
    expect(res.error?.message).toMatch(
      /ghcr\.io\/example\/tunnel: building for several platforms needs the Docker engine's containerd image store/
    );
    expect(r.commands().filter((c) => ['login', 'buildx build', 'push'].includes(c))).toEqual([]);
  });
});

describe('retries', () => {
  const noSleep = { attempts: 3, baseDelayMs: 1000, sleep: async (): Promise<void> => undefined };
  it.each([
    ['unexpected status from HEAD request to http://r/v2/x/manifests/latest: 500 Internal Server Error', true],
    ['toomanyrequests: 429 Too Many Requests', true],
    ['received unexpected HTTP status: 503 Service Unavailable', true],
    ['dial tcp 127.0.0.1:5151: connect: connection refused', true],
    ['unauthorized: authentication required', false],
    ['denied: requested access to the resource is denied', false]
  ])('%s → transient %s', (out, want) => {
    expect(isTransient(out)).toBe(want);
  });
  it('tries a transient fault again, with growing delays, and succeeds', async () => {
    const delays: number[] = [];
    let n = 0;
    const r = await withRetry('x', async () => (++n < 3 ? Promise.reject(new Error('503 Service Unavailable')) : 'ok'), {
      ...noSleep,
      sleep: async (ms) => void delays.push(ms)
    });
    expect([r, n, delays]).toEqual(['ok', 3, [1000, 2000]]);
  });
  it('gives up after the bounded number of tries, saying how many', async () => {
    let n = 0;
    await expect(
      withRetry('docker push a/b:1', async () => Promise.reject(new Error(`try ${++n}: 503 Service Unavailable`)), noSleep)
    ).rejects.toThrow(/docker push a\/b:1 failed after 3 tries: try 3: 503/);
  });
  it("puts the last line of the output, the registry's answer, on the first line of the final error", async () => {
    const out =
      'docker push r/a:1 … exited with code 1:\nabc: Waiting\nunexpected status from HEAD request to http://r/v2/a/blobs/x: 503 Service Unavailable\n';
    const err = await withRetry('docker push r/a:1', async () => Promise.reject(new Error(out)), noSleep).catch((e: Error) => e);
    expect(err.message.split('\n')[0]).toBe(
      'docker push r/a:1 failed after 3 tries: unexpected status from HEAD request to http://r/v2/a/blobs/x: 503 Service Unavailable'
    );
    expect(err.message).toContain(out.trim());
  });
  it('does not retry a fault that is not transient', async () => {
    let n = 0;
    await expect(withRetry('x', async () => Promise.reject(new Error(`unauthorized ${++n}`)), noSleep)).rejects.toThrow('unauthorized 1');
  });
});
