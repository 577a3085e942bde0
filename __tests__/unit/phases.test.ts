// The phases of a run, each with a fake runner: the docker command lines (plan/commands/), the
// builder choice, QEMU, what is read from docker's output and the registry's answers, the pipeline
// end to end against a fake engine and registry (two images, each with its own repository and the
// registry's real answers), the job summary, and retries.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { buildxBuildArgs, cacheArgs, type BuildOutput } from '../../src/plan/commands/build.js';
import { BINFMT_IMAGE, smokeRunArgs } from '../../src/plan/commands/containers.js';
import { loginArgs, tagArgs } from '../../src/plan/commands/registry.js';
import { buildSteps, cacheErrors, countSteps } from '../../src/plan/build-log.js';
import { indexDigestOf, platformManifest, platformSizes } from '../../src/plan/index-manifest.js';
import { rewritesTimestamps } from '../../src/plan/parts.js';
import { smokePlatforms } from '../../src/plan/smoke.js';
import type { Plan, PlannedImage } from '../../src/plan/types.js';
import { chooseBuilder, parseInspect, type BuilderInfo } from '../../src/run/builder.js';
import { runPipeline } from '../../src/run/pipeline.js';
import { emulatedPlatforms } from '../../src/plan/platforms.js';
import { missingInterpreters, setupQemu } from '../../src/run/qemu.js';
import { phaseRows, PhaseClock } from '../../src/report/phases.js';
import { summaryRows } from '../../src/report/summary.js';
import { indexAnnotations } from '../../src/plan/labels.js';
import { isTransient, withRetry } from '../../src/run/retry.js';
import type { ExecResult } from '../../src/run/runner.js';
import { DOCKER_DRIVER_BUILDER } from '../support/fake-engine.js';
import { FakeRunner, HoldingRunner } from '../support/fake-runner.js';

const img = (over: Partial<PlannedImage> = {}): PlannedImage => ({
  name: 'ghcr.io/example/tunnel',
  repositories: ['ghcr.io/example/tunnel'],
  refs: ['ghcr.io/example/tunnel:v2.3.1', 'ghcr.io/example/tunnel:latest'],
  dockerfile: 'Dockerfile',
  context: '.',
  platforms: ['linux/amd64', 'linux/arm64'],
  buildArgs: { VERSION: 'v2.3.1' },
  labels: { 'org.opencontainers.image.version': 'v2.3.1' },
  annotations: { 'org.opencontainers.image.version': 'v2.3.1' },
  smoke: { enabled: true, args: ['--version'], env: {}, timeoutSeconds: 60, wait: { kind: 'exit' } },
  cacheScope: 'ghcr.io-example-tunnel',
  ...over
});

describe('command lines', () => {
  const common = [
    '--platform=linux/amd64,linux/arm64',
    '--file=Dockerfile',
    '--label=org.opencontainers.image.version=v2.3.1',
    '--build-arg=VERSION=v2.3.1'
  ];
  it.each([
    [
      'the build: gha cache, every platform into the builder only',
      img(),
      'gha' as const,
      { type: 'cacheonly' } as BuildOutput,
      [
        ...common,
        '--cache-from=type=gha,scope=ghcr.io-example-tunnel',
        '--cache-to=type=gha,mode=max,scope=ghcr.io-example-tunnel,ignore-error=true',
        '--metadata-file=/tmp/m.json',
        '--output=type=cacheonly',
        '.'
      ]
    ],
    [
      'one platform loaded for its smoke test, timestamps rewritten as in the push',
      img(),
      'none' as const,
      { type: 'load', name: 'ghcr.io/example/tunnel:v2.3.1', rewriteTimestamp: true } as BuildOutput,
      [
        ...common,
        '--metadata-file=/tmp/m.json',
        '--output=type=docker,name=ghcr.io/example/tunnel:v2.3.1,rewrite-timestamp=true',
        '--provenance=false',
        '.'
      ]
    ],
    [
      'a node’s platform loaded as a tar for docker load',
      img(),
      'none' as const,
      { type: 'load', name: 'a/b:1', dest: '/t/l.tar', rewriteTimestamp: false } as BuildOutput,
      [...common, '--metadata-file=/tmp/m.json', '--output=type=docker,name=a/b:1,dest=/t/l.tar', '--provenance=false', '.']
    ],
    [
      'push by digest, untagged',
      img(),
      'none' as const,
      {
        type: 'push-by-digest',
        repository: 'ghcr.io/example/tunnel',
        rewriteTimestamp: true,
        attestations: { provenance: 'min', sbom: false }
      } as BuildOutput,
      [
        ...common,
        '--metadata-file=/tmp/m.json',
        '--output=type=image,name=ghcr.io/example/tunnel,push-by-digest=true,name-canonical=true,push=true,rewrite-timestamp=true',
        '--provenance=mode=min',
        '.'
      ]
    ],
    [
      'push by digest with provenance max and an SBOM',
      img(),
      'none' as const,
      {
        type: 'push-by-digest',
        repository: 'r/a',
        rewriteTimestamp: false,
        attestations: { provenance: 'max', sbom: true }
      } as BuildOutput,
      [
        ...common,
        '--metadata-file=/tmp/m.json',
        '--output=type=image,name=r/a,push-by-digest=true,name-canonical=true,push=true',
        '--provenance=mode=max',
        '--sbom=true',
        '.'
      ]
    ],
    [
      'push by digest without provenance',
      img(),
      'none' as const,
      {
        type: 'push-by-digest',
        repository: 'r/a',
        rewriteTimestamp: false,
        attestations: { provenance: 'false', sbom: false }
      } as BuildOutput,
      [
        ...common,
        '--metadata-file=/tmp/m.json',
        '--output=type=image,name=r/a,push-by-digest=true,name-canonical=true,push=true',
        '--provenance=false',
        '.'
      ]
    ],
    [
      'target, registry cache, context that looks like a flag',
      img({ target: 'final', context: '-rf', labels: {}, buildArgs: {}, refs: ['a/b:1'], platforms: ['linux/amd64'] }),
      'registry' as const,
      { type: 'cacheonly' } as BuildOutput,
      [
        '--platform=linux/amd64',
        '--file=Dockerfile',
        '--target=final',
        '--cache-from=type=registry,ref=ghcr.io/example/tunnel:buildcache-ghcr.io-example-tunnel',
        '--cache-to=type=registry,ref=ghcr.io/example/tunnel:buildcache-ghcr.io-example-tunnel,mode=max,ignore-error=true',
        '--metadata-file=/tmp/m.json',
        '--output=type=cacheonly',
        './-rf'
      ]
    ]
  ])('buildx build: %s', (_what, image, cache, output, argv) => {
    const c = cacheArgs(cache, image);
    expect(
      buildxBuildArgs(image, {
        builder: 'b1',
        platforms: image.platforms,
        cacheFrom: c.from,
        cacheTo: c.to,
        metadataFile: '/tmp/m.json',
        output
      })
    ).toEqual(['buildx', 'build', '--builder=b1', ...argv]);
  });

  it('tags: a copy of the pushed index, or one index of several parts, under every tag of every registry in one call', () => {
    expect(tagArgs(['ghcr.io/o/a:v1'], ['ghcr.io/o/a@sha256:1'])).toEqual([
      'buildx',
      'imagetools',
      'create',
      '--tag=ghcr.io/o/a:v1',
      'ghcr.io/o/a@sha256:1'
    ]);
    expect(tagArgs(['r/a:1'], ['r/a@sha256:1', 'r/a@sha256:2']).slice(4)).toEqual(['r/a@sha256:1', 'r/a@sha256:2']);
    // buildx ≥ 0.21 copies the sources into each tag's repository, whatever its registry.
    expect(tagArgs(['ghcr.io/o/a:v1', 'ghcr.io/o/a:latest', 'docker.io/o/a:v1'], ['ghcr.io/o/a@sha256:1'], {}, true)).toEqual([
      'buildx',
      'imagetools',
      'create',
      '--dry-run',
      '--tag=ghcr.io/o/a:v1',
      '--tag=ghcr.io/o/a:latest',
      '--tag=docker.io/o/a:v1',
      'ghcr.io/o/a@sha256:1'
    ]);
  });

  it('the digest of the index a tag will hold, from imagetools create --dry-run (buildx 0.29, registry digest as pushed)', () => {
    const out = readFileSync(new URL('../fixtures/buildx/imagetools-create-dry-run.txt', import.meta.url), 'utf8');
    expect(indexDigestOf(out)).toBe('sha256:7c0584fc03ec8923ad7fdba0dfbea43c559066edb47bacacd33afd7f216b1c11');
    expect(indexDigestOf('')).toBe('');
    expect(indexDigestOf('ERROR: not found\n')).toBe('');
  });

  it('tags carry index annotations from the OCI labels, values as they are (commas, spaces)', () => {
    const labels = {
      'org.opencontainers.image.title': 'tunnel',
      'org.opencontainers.image.description': 'A tunnel, over WebSocket',
      'org.opencontainers.image.source': 'https://github.com/example/tunnel',
      'org.opencontainers.image.url': 'https://github.com/example/tunnel',
      'org.opencontainers.image.version': 'v2.3.1',
      'org.opencontainers.image.revision': 'a94a8fe5ccb19ba61c4c0873d391e987982fbbd3',
      'org.opencontainers.image.licenses': 'MIT',
      'org.opencontainers.image.created': '2026-11-20T10:00:00Z',
      'com.example.team': 'edge'
    };
    expect(tagArgs(['r/a:1'], ['r/a@sha256:1'], indexAnnotations(labels))).toEqual([
      'buildx',
      'imagetools',
      'create',
      '--tag=r/a:1',
      '--annotation=index:org.opencontainers.image.description=A tunnel, over WebSocket',
      '--annotation=index:org.opencontainers.image.source=https://github.com/example/tunnel',
      '--annotation=index:org.opencontainers.image.version=v2.3.1',
      '--annotation=index:org.opencontainers.image.revision=a94a8fe5ccb19ba61c4c0873d391e987982fbbd3',
      '--annotation=index:org.opencontainers.image.licenses=MIT',
      '--annotation=index:org.opencontainers.image.created=2026-11-20T10:00:00Z',
      'r/a@sha256:1'
    ]);
    expect(indexAnnotations({ 'org.opencontainers.image.description': '' })).toEqual({});
  });

  it('timestamps are rewritten when SOURCE_DATE_EPOCH is set and the driver can (not the docker driver)', () => {
    const dated = img({ buildArgs: { SOURCE_DATE_EPOCH: '1700000000' } });
    expect(rewritesTimestamps(dated, 'docker-container')).toBe(true);
    expect(rewritesTimestamps(dated, 'docker')).toBe(false);
    expect(rewritesTimestamps(img(), 'docker-container')).toBe(false);
  });

  it('no cache means no cache flags', () => {
    expect(cacheArgs('none', img())).toEqual({ from: [], to: [] });
  });

  it('smoke run and login', () => {
    expect(
      smokeRunArgs(
        'a/b:1',
        'linux/arm64',
        { enabled: true, args: ['-x', '$(id)'], env: { K: 'v' }, entrypoint: '/bin/sh', timeoutSeconds: 1, wait: { kind: 'exit' } },
        'c1'
      )
    ).toEqual([
      'run',
      '--detach',
      '--name=c1',
      '--platform=linux/arm64',
      '--pull=never',
      '--env=K=v',
      '--entrypoint=/bin/sh',
      'a/b:1',
      '-x',
      '$(id)'
    ]);
    expect(
      smokeRunArgs(
        'a/b:1',
        'linux/amd64',
        { enabled: true, args: [], env: {}, timeoutSeconds: 9, wait: { kind: 'http', port: 8080, path: '/', status: 200 } },
        'c2'
      )
    ).toEqual(['run', '--detach', '--name=c2', '--platform=linux/amd64', '--pull=never', '--publish=127.0.0.1::8080', 'a/b:1']);
    expect(loginArgs('ghcr.io', 'me')).toEqual(['login', '--username=me', '--password-stdin', 'ghcr.io']);
  });
});

describe('builder choice', () => {
  const inspect = 'Name:          default\nDriver:        docker\nLast Activity: 2026-11-22\n\nNodes:\nName:             default\n';
  it('parses docker buildx inspect', () => {
    expect(parseInspect(inspect)).toEqual({ name: 'default', driver: 'docker' });
  });
  it.each([
    ['auto', { name: 'default', driver: 'docker' }, { name: 'new', create: true, driver: 'docker-container' }],
    ['auto', { name: 'builder-1', driver: 'docker-container' }, { name: 'builder-1', create: false, driver: 'docker-container' }],
    ['auto', { name: 'k', driver: 'kubernetes' }, { name: 'k', create: false, driver: 'kubernetes' }],
    ['docker-container', { name: 'default', driver: 'docker' }, { name: 'new', create: true, driver: 'docker-container' }],
    ['docker', { name: 'x', driver: 'docker-container' }, { name: 'default', create: false, driver: 'docker' }]
  ] as [Parameters<typeof chooseBuilder>[0], BuilderInfo, { name: string; create: boolean; driver: string }][])(
    '%s with %j (whatever the image store)',
    (mode, current, want) => {
      const c = chooseBuilder(mode, current, 'new');
      expect({ name: c.name, create: c.create, driver: c.driver }).toEqual(want);
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
  it('a cold build whose tested platform its load built first (BuildKit v0.32.2): the steps the load ran are not from the cache', () => {
    const fixture = (f: string): string => readFileSync(new URL(`../fixtures/buildx/${f}`, import.meta.url), 'utf8');
    const [load, all] = [fixture('build-load-first-platform.txt'), fixture('build-all-platforms-after-load.txt')];
    // The build of every platform shows what the load ran as CACHED.
    expect(countSteps(all)).toEqual({ cached: 5, total: 13 });
    expect(buildSteps([all], [load])).toEqual({ cached: 0, total: 13 });
    // A load that itself found its steps in the cache (a rebuild): they count as cached.
    const cachedLoad = '#7 [build 2/2] RUN go build\n#7 CACHED\n';
    expect(
      buildSteps(['#9 [linux/amd64 build 2/2] RUN go build\n#9 CACHED\n#10 [linux/amd64->arm64 build 2/2] RUN x\n'], [cachedLoad])
    ).toEqual({
      cached: 1,
      total: 2
    });
  });
  it('a cold build whose other platforms built beside the load of the tested one (buildx 0.29.1, BuildKit v0.32.2): nothing is from the cache, though the two logs number their steps alike', () => {
    const fixture = (f: string): string => readFileSync(new URL(`../fixtures/buildx/${f}`, import.meta.url), 'utf8');
    const [beside, load, all] = ['beside-other-platforms.txt', 'beside-load-first-platform.txt', 'beside-all-platforms.txt'].map(fixture);
    // The build of every platform (linux/amd64, linux/arm64) after both shows what they ran as CACHED.
    expect(countSteps(all ?? '')).toEqual({ cached: 7, total: 10 });
    expect(buildSteps([all ?? ''], [load ?? '', beside ?? ''])).toEqual({ cached: 0, total: 10 });
    // Read as one log, #14 of the load (the amd64 go build) would be taken for #14 of the other (a COPY).
    expect(buildSteps([all ?? ''], [`${load ?? ''}\n${beside ?? ''}`])).toEqual({ cached: 1, total: 10 });
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
  it('finds a platform’s manifest in an index, not an attestation; arm64/v8 is arm64', () => {
    const index = {
      manifests: [
        { digest: 'sha256:1', size: 1, platform: { os: 'linux', architecture: 'amd64' } },
        { digest: 'sha256:2', size: 1, platform: { os: 'linux', architecture: 'arm', variant: 'v7' } },
        { digest: 'sha256:4', size: 1, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
        { digest: 'sha256:3', size: 1, platform: { os: 'unknown', architecture: 'unknown' } }
      ]
    };
    expect(platformManifest(index, 'linux/arm/v7')?.digest).toBe('sha256:2');
    expect(platformManifest(index, 'linux/arm64')?.digest).toBe('sha256:4');
    expect(platformManifest(index, 'linux/arm64/v8')?.digest).toBe('sha256:4');
    expect(platformManifest(index, 'linux/riscv64')).toBeUndefined();
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
    img({
      name: 'ghcr.io/example/web',
      repositories: ['ghcr.io/example/web'],
      refs: ['ghcr.io/example/web:v2.3.1'],
      platforms: ['linux/amd64'],
      cacheScope: 'web'
    })
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
  latest: 'auto',
  notices: [],
  mode: 'publish',
  handoffScope: '0123456789ab',
  sign: { mode: 'false' },
  attest: { smoke: false, github: false },
  provenance: 'min',
  sbom: false,
  buildSecrets: [],
  ssh: [],
  secretEnv: {},
  ...over
});

const VERSION_ANNOTATION = '--annotation=index:org.opencontainers.image.version=v2.3.1';

/**
 * What the registry holds for each image, as buildx 0.29 pushed it (linux/amd64 with a provenance
 * attestation) to the test registry, byte for byte (fixtures/registry/; each file's sha256 is its
 * digest): the index pushed by digest, its amd64 manifest and config, the tagged index (the copy
 * with the index annotations) and its size as the registry stores it. Two images, two of
 * everything: a source or a result given to the wrong image fails.
 */
const fixture = (f: string): string => readFileSync(new URL(`../fixtures/registry/${f}`, import.meta.url), 'utf8');
const REGISTRY_IMAGES = {
  'ghcr.io/example/tunnel': {
    index: 'sha256:14c1bea121c80b2fb03a846cf2675ac2cc09ee8edc067a14531fb5586908177b',
    manifest: 'sha256:c934f1dbc8bfb216303f450c52ffa77310693e9f8280964e2ce3d95dc3caeedb',
    config: 'sha256:69bc5f74a2c121994908843ec5896b4adbdfe393a3d08d36175a7e9385404470',
    tagged: 'sha256:70fbb0d462bc15dc05f7f74e16676c03f300b458eeaef6a99ae373000c668311',
    files: { index: 'a-index.json', manifest: 'a-manifest-amd64.json', tagged: 'a-tagged-index.json' }
  },
  'ghcr.io/example/web': {
    index: 'sha256:2b1703bdefb51191397073ff2a8aa060ce324d52570f602ca7b6027282c5a70c',
    manifest: 'sha256:9b55dc2c8ef0b619d02f71d27683fcaf4797c6aec7bb0d2e8377884c7b42c88a',
    config: 'sha256:9ac096f5388a3e3ef9ee707f7233ffdda62471c301667a44f4c944c7d2dadc8b',
    tagged: 'sha256:c56615e93aa68f3c7dbc6210c0182177af39ea73c25b63e6c19c723cd96565f4',
    files: { index: 'b-index.json', manifest: 'b-manifest-amd64.json', tagged: 'b-tagged-index.json' }
  }
};
const TUNNEL = REGISTRY_IMAGES['ghcr.io/example/tunnel'];
const WEB = REGISTRY_IMAGES['ghcr.io/example/web'];
type RepoName = keyof typeof REGISTRY_IMAGES;
const held = (ref: string): (typeof REGISTRY_IMAGES)[RepoName] | undefined =>
  Object.entries(REGISTRY_IMAGES).find(([repo]) => ref.startsWith(`${repo}:`) || ref.startsWith(`${repo}@`) || ref === repo)?.[1];

/**
 * A fake engine + registry: the current builder uses the docker driver; a push by digest writes
 * its metadata file as buildx does, with the index digest of the repository it pushed to; `docker
 * image inspect` of a loaded image answers the image ID each store gives it (classic: the config
 * digest; containerd: the manifest digest); `imagetools inspect` answers what the registry holds,
 * and "not found" for anything else.
 */
const engine =
  (store: 'classic' | 'containerd', over: (args: string[]) => Partial<ExecResult> | undefined = () => undefined) =>
  (args: string[]): Partial<ExecResult> => {
    const o = over(args);
    if (o) return o;
    if (args[0] === 'buildx' && args[1] === 'inspect') return DOCKER_DRIVER_BUILDER;
    const metadata = args.find((a) => a.startsWith('--metadata-file='))?.slice('--metadata-file='.length);
    const pushTo = /^--output=type=image,name=([^,]+),push-by-digest=true/.exec(args.find((a) => a.startsWith('--output=')) ?? '')?.[1];
    if (metadata && pushTo) writeFileSync(metadata, JSON.stringify({ 'containerimage.digest': held(pushTo)?.index ?? 'unknown' }));
    if (args[0] === 'container' && args[1] === 'inspect') return { stdout: '{"Status":"exited","ExitCode":0}' };
    if (args[0] === 'image' && args[1] === 'inspect') {
      const i = held(args.at(-1) ?? '');
      return i ? { stdout: `${store === 'classic' ? i.config : i.manifest}\n` } : { exitCode: 1, stderr: 'No such image' };
    }
    // The dry run prints the index every tag will name: the tagged index, byte for byte.
    if (args[1] === 'imagetools' && args[2] === 'create' && args[3] === '--dry-run') {
      const i = held(args.find((a) => a.startsWith('--tag='))?.slice('--tag='.length) ?? '');
      return i ? { stdout: `${fixture(i.files.tagged)}\n` } : { exitCode: 1, stderr: 'ERROR: not found' };
    }
    if (args[1] === 'imagetools' && args[2] === 'inspect') {
      const target = args[3] ?? '';
      const i = held(target);
      const notFound = { exitCode: 1, stderr: `ERROR: ${target}: not found` };
      if (!i || args.includes('--format={{json .Image}}')) return notFound;
      const byDigest = target.includes('@');
      if (args.includes('--format={{json .Manifest}}'))
        return byDigest ? notFound : { stdout: JSON.stringify({ mediaType: 'application/vnd.oci.image.index.v1+json', digest: i.tagged }) };
      if (!byDigest) return { stdout: fixture(i.files.tagged) };
      if (target.endsWith(`@${i.index}`)) return { stdout: fixture(i.files.index) };
      if (target.endsWith(`@${i.manifest}`)) return { stdout: fixture(i.files.manifest) };
      return notFound;
    }
    return {};
  };

/** What each docker call was, by kind: the build's outputs told apart. */
const kindOf = (c: string[]): string => {
  const out = c.find((a) => a.startsWith('--output='));
  if (out) return out.includes('cacheonly') ? 'build' : out.includes('type=docker') ? 'load' : 'push-by-digest';
  if (c[0] === 'buildx')
    return c[1] === 'imagetools' ? `imagetools ${c[2] ?? ''}${c[3] === '--dry-run' ? ' --dry-run' : ''}` : `buildx ${c[1] ?? ''}`;
  return c[0] === 'logs' ? 'logs' : c.slice(0, 2).join(' ');
};
const kinds = (r: FakeRunner): string[] => r.calls.map(kindOf);

/** The plan's images in the calls: which image (0 tunnel, 1 web) each call is for, by its files, refs and containers. */
function imageOfCalls(calls: string[][]): (number | undefined)[] {
  const containers = new Map<string, number>();
  const byRef = (c: string[]): number | undefined =>
    c.some((a) => a.includes('example/web')) ? 1 : c.some((a) => a.includes('example/tunnel')) ? 0 : undefined;
  return calls.map((c) => {
    const file = c.find((a) => a.startsWith('--metadata-file='));
    const n = file ? /\/(?:build|load|push)-(\d+)-/.exec(file)?.[1] : undefined;
    if (n !== undefined) return Number(n);
    const name = c.find((a) => a.startsWith('--name='))?.slice('--name='.length);
    if (c[0] === 'run' && name) containers.set(name, byRef(c) ?? -1);
    const container = [...containers.keys()].find((k) => c.includes(k));
    return container !== undefined ? containers.get(container) : byRef(c);
  });
}

describe('pipeline with a fake runner', () => {
  const env = { runId: '1', ghaCache: { reason: 'none here' }, tempDir: mkdtempSync(join(tmpdir(), 'gdp-unit-')) };
  const hooks = { loggedIn: () => undefined, builderCreated: () => undefined };
  const twoImages = plan;

  it.each<['classic' | 'containerd', [string, string]]>([
    // The engine's image ID of each tested platform: the config digest on the classic store, the manifest digest on containerd's.
    ['classic', [TUNNEL.config, WEB.config]],
    ['containerd', [TUNNEL.manifest, WEB.manifest]]
  ])(
    '%s image store, two images at once: each loads (builds) its tested platform, then builds the rest and smoke-tests; every push after every smoke test; every tag after every push and check',
    async (store, tested) => {
      const r = new FakeRunner(engine(store));
      const res = await runPipeline(twoImages(), r, hooks, { ...env, parallelism: 2 });
      expect(res.error).toBeUndefined();
      const all = kinds(r);
      const owner = imageOfCalls(r.calls);
      const mine = (i: number): string[] =>
        all.filter((k, n) => owner[n] === i && !['buildx inspect', 'container inspect', 'logs', 'imagetools inspect'].includes(k));
      // The tunnel's tags: its version tag, then (another call) its floating tag latest; the web has a version tag only.
      for (const [i, creates] of [
        [0, ['imagetools create', 'imagetools create']],
        [1, ['imagetools create']]
      ] as const) {
        expect(mine(i)).toEqual([
          'load',
          'image inspect',
          'build',
          'run --detach',
          'rm --force',
          'image rm',
          'push-by-digest',
          'imagetools create --dry-run',
          ...creates
        ]);
      }
      // Side by side: the second image loads before the first one's smoke test runs.
      expect(all.indexOf('load', all.indexOf('load') + 1)).toBeLessThan(all.indexOf('run --detach'));
      const last = (k: string): number => all.lastIndexOf(k);
      expect(all.indexOf('push-by-digest')).toBeGreaterThan(last('rm --force'));
      const lastRead = Math.max(...all.flatMap((k, n) => (k === 'imagetools inspect' && r.calls[n]?.includes('--raw') ? [n] : [])));
      expect(all.indexOf('imagetools create')).toBeGreaterThan(Math.max(last('push-by-digest'), lastRead));
      // Per image one call for the version tags, one for the floating tags; nothing is read back after the tags.
      expect(r.calls.filter((c) => c[2] === 'create' && c[3] !== '--dry-run').map((c) => c.slice(3))).toEqual([
        ['--tag=ghcr.io/example/tunnel:v2.3.1', VERSION_ANNOTATION, `ghcr.io/example/tunnel@${TUNNEL.index}`],
        ['--tag=ghcr.io/example/tunnel:latest', VERSION_ANNOTATION, `ghcr.io/example/tunnel@${TUNNEL.index}`],
        ['--tag=ghcr.io/example/web:v2.3.1', VERSION_ANNOTATION, `ghcr.io/example/web@${WEB.index}`]
      ]);
      expect(all.slice(all.indexOf('imagetools create'))).not.toContain('imagetools inspect');
      expect(res.pushed).toBe(true);
      expect(res.pushedRefs).toEqual(['ghcr.io/example/tunnel:v2.3.1', 'ghcr.io/example/tunnel:latest', 'ghcr.io/example/web:v2.3.1']);
      // The digest is the dry run's (the tagged index, known before any tag existed); the sizes
      // (config + layers, in the registry) come from the check's reads.
      expect(res.images.map((i) => [i.name, i.smoke, i.digest, i.tested, i.size])).toEqual([
        ['ghcr.io/example/tunnel', 'passed', TUNNEL.tagged, { 'linux/amd64': tested[0] }, { 'linux/amd64': 1895311 }],
        ['ghcr.io/example/web', 'passed', WEB.tagged, { 'linux/amd64': tested[1] }, { 'linux/amd64': 1895308 }]
      ]);
      // Each manifest was read once per repository, however many tags and checks use it.
      const reads = r.calls.filter((c) => c[2] === 'inspect' && c[4] === '--raw').map((c) => c[3]);
      expect(reads).toEqual([...new Set(reads)]);
      // Where the time went: a row per phase, per image and platform.
      expect(res.phases?.map((p) => p.name)).toEqual(
        expect.arrayContaining([
          'login',
          'QEMU',
          'builder',
          'Go cache restore',
          'build ghcr.io/example/tunnel',
          'load + smoke ghcr.io/example/tunnel linux/amd64',
          'build ghcr.io/example/web',
          'load + smoke ghcr.io/example/web linux/amd64',
          'push ghcr.io/example/tunnel',
          'check ghcr.io/example/tunnel',
          'push ghcr.io/example/web',
          'check ghcr.io/example/web',
          'tag'
        ])
      );
      expect(res.phases?.every((p) => p.end !== undefined && p.end >= p.start)).toBe(true);
    }
  );

  it('a failed smoke test of the second image while the first one still builds: no push at all, once the first has built', async () => {
    // The first image's build of every platform is held (still compiling); the second image's smoke test fails meanwhile.
    let web = '';
    const r = new HoldingRunner(
      engine('classic', (args) => {
        if (args[0] === 'run' && args.includes('ghcr.io/example/web:gdp-smoke-1')) web = args.find((a) => a.startsWith('--name=')) ?? '';
        const mine = web !== '' && args.includes(web.slice('--name='.length));
        if (mine && args[0] === 'container') return { stdout: '{"Status":"exited","ExitCode":3}' };
        return undefined;
      }),
      (args) => args.includes('--output=type=cacheonly') && args.some((a) => a.includes('/build-0-'))
    );
    const running = runPipeline(twoImages(), r, hooks, { ...env, parallelism: 2 });
    // Let everything but the held build run: the second image's smoke test fails.
    for (let n = 0; n < 200 && !r.calls.some((c) => c[0] === 'rm' && c.includes(web.slice('--name='.length))); n++) await Promise.resolve();
    expect(web).not.toBe('');
    expect(kinds(r)).not.toContain('push-by-digest');
    r.release();
    const res = await running;
    expect(kinds(r).filter((k) => k === 'push-by-digest' || k.startsWith('imagetools create'))).toEqual([]);
    expect(res.pushed).toBe(false);
    expect(res.error?.message).toMatch(/image ghcr\.io\/example\/web, platform linux\/amd64: exited with code 3[\s\S]*Nothing was pushed/);
    expect(res.images.map((i) => i.smoke)).toEqual(['passed', 'failed']);
  });

  it('every smoke test passed while the first image still builds: the pushes start, and no tag before that build ended', async () => {
    const r = new HoldingRunner(
      engine('classic'),
      (args) => args.includes('--output=type=cacheonly') && args.some((a) => a.includes('/build-0-'))
    );
    const running = runPipeline(twoImages(), r, hooks, { ...env, parallelism: 2 });
    for (let n = 0; n < 200 && kinds(r).filter((k) => k === 'push-by-digest').length < 2; n++) await Promise.resolve();
    // Both images' pushes are under way (the held build's push shares its compile in BuildKit), nothing is tagged.
    expect(kinds(r).filter((k) => k === 'push-by-digest')).toHaveLength(2);
    expect(kinds(r).filter((k) => k.startsWith('imagetools create'))).toEqual([]);
    r.release();
    const res = await running;
    expect(res.error).toBeUndefined();
    expect(kinds(r).filter((k) => k === 'imagetools create')).toHaveLength(3);
    const build = res.phases?.find((p) => p.name === 'build ghcr.io/example/tunnel');
    const push = res.phases?.find((p) => p.name === 'push ghcr.io/example/tunnel');
    expect(push && build && push.start <= (build.end ?? 0)).toBe(true);
  });

  it('a floating tag that a newer release holds is not moved back: latest stays, the version tag is made', async () => {
    const newer = { 'linux/amd64': { config: { Labels: { 'org.opencontainers.image.version': 'v9.0.0' } } } };
    const r = new FakeRunner(
      engine('classic', (a) =>
        a[2] === 'inspect' && a[3] === 'ghcr.io/example/tunnel:latest' && a[4] === '--format={{json .Image}}'
          ? { stdout: JSON.stringify(newer) }
          : undefined
      )
    );
    const res = await runPipeline(plan(), r, hooks, env);
    expect(res.error).toBeUndefined();
    expect(r.calls.filter((c) => c[2] === 'create' && c[3] !== '--dry-run').map((c) => c[3])).toEqual([
      '--tag=ghcr.io/example/tunnel:v2.3.1',
      '--tag=ghcr.io/example/web:v2.3.1'
    ]);
    expect(res.images[0]?.tags).toEqual(['ghcr.io/example/tunnel:v2.3.1']);
    expect(res.pushed).toBe(true);
  });

  it('a pushed image that is not the one that ran: no tag at all, for any image', async () => {
    const r = new FakeRunner(
      engine('classic', (a) => (a[0] === 'image' && a[1] === 'inspect' ? { stdout: `sha256:${'9'.repeat(64)}` } : undefined))
    );
    const res = await runPipeline(plan(), r, hooks, env);
    expect(res.error?.message).toMatch(
      new RegExp(
        `ghcr\\.io/example/tunnel linux/amd64: the image pushed by digest \\(manifest ${TUNNEL.manifest}, config ${TUNNEL.config}\\) is not the image that was smoke-tested`
      )
    );
    expect(kinds(r)).not.toContain('imagetools create');
    expect(res.pushedRefs).toEqual([]);
  });

  it('one failed smoke test: no push at all, for any image, and the error names image, platform, exit code', async () => {
    // The web image's container (docker run names it) exits with code 3.
    let web = '';
    const r = new FakeRunner(
      engine('classic', (args) => {
        if (args[0] === 'run' && args.includes('ghcr.io/example/web:gdp-smoke-1')) web = args.find((a) => a.startsWith('--name=')) ?? '';
        const mine = web !== '' && args.includes(web.slice('--name='.length));
        if (mine && args[0] === 'container') return { stdout: '{"Status":"exited","ExitCode":3}' };
        if (mine && args[0] === 'logs') return { stderr: 'panic: boom\n' };
        return undefined;
      })
    );
    const res = await runPipeline(plan(), r, hooks, env);
    expect(kinds(r).filter((k) => k === 'push-by-digest' || k === 'imagetools create')).toEqual([]);
    expect(res.pushed).toBe(false);
    expect(res.pushedRefs).toEqual([]);
    expect(res.error?.message).toMatch(/image ghcr\.io\/example\/web, platform linux\/amd64: exited with code 3/);
    expect(res.error?.message).toContain('panic: boom');
    expect(res.images.map((i) => i.smoke)).toEqual(['passed', 'failed']);
  });

  it('push: false builds and smoke-tests everything, logs in nowhere, pushes nothing', async () => {
    const r = new FakeRunner(engine('classic'));
    const res = await runPipeline(plan({ push: false, pushReason: 'push: false' }), r, hooks, env);
    expect(res.error).toBeUndefined();
    expect(kinds(r).filter((k) => ['login --username=me', 'push-by-digest', 'imagetools create'].includes(k))).toEqual([]);
    expect(kinds(r).filter((k) => k === 'run --detach')).toHaveLength(2);
    expect(res.pushed).toBe(false);
  });

  it('smoke-platforms: all loads and runs one platform at a time; the first is built by its load while the other platforms build beside it, and every platform builds once that load is done', async () => {
    const isLoad = (c: string[]): boolean => kinds({ calls: [c] } as FakeRunner)[0] === 'load';
    const platformsOf = (c: string[]): string => c.find((a) => a.startsWith('--platform='))?.slice('--platform='.length) ?? '';
    // The first load is held: what starts beside it, and what waits for it.
    let loads = 0;
    const r = new HoldingRunner(engine('classic'), (c) => isLoad(c) && loads++ === 0);
    const p = plan({ push: false, smokePlatforms: 'all' });
    p.images = [img({ platforms: ['linux/amd64', 'linux/arm64', 'linux/arm/v7'] })];
    const running = runPipeline(p, r, hooks, env);
    const builds = (): string[] => r.calls.filter((c) => kinds({ calls: [c] } as FakeRunner)[0] === 'build').map(platformsOf);
    for (let n = 0; n < 200 && builds().length === 0; n++) await Promise.resolve();
    // Beside the held load of linux/amd64: the other two platforms only (the tested one is the load's to build).
    expect(r.calls.filter(isLoad).map(platformsOf)).toEqual(['linux/amd64']);
    expect(builds()).toEqual(['linux/arm64,linux/arm/v7']);
    r.release();
    await running;
    expect(builds()).toEqual(['linux/arm64,linux/arm/v7', 'linux/amd64,linux/arm64,linux/arm/v7']);
    expect(kinds(r).filter((k) => ['build', 'load', 'run --detach'].includes(k))).toEqual([
      'load',
      'build',
      'run --detach',
      'build',
      'load',
      'run --detach',
      'load',
      'run --detach'
    ]);
    expect(r.calls.filter((c) => c[0] === 'run').map(platformsOf)).toEqual(['linux/amd64', 'linux/arm64', 'linux/arm/v7']);
    expect(r.calls.filter(isLoad).map(platformsOf)).toEqual(['linux/amd64', 'linux/arm64', 'linux/arm/v7']);
  });

  it('creates a docker-container builder when the current one uses the docker driver, and says so to post', async () => {
    const created: string[] = [];
    const r = new FakeRunner(engine('containerd'));
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
      'Go cache mounts added',
      'Pushed',
      'Attestations',
      'Signed',
      'Attested'
    ]);
    expect(Object.fromEntries(rows)).toMatchObject({
      Size: 'linux/amd64: 2.50 MB',
      Tags: '<code>a/b:&lt;v&gt;</code>',
      'Build time': '3.2 s',
      Pushed: 'yes',
      Attestations: 'provenance (mode=min), in the index: one attestation manifest per platform (platform unknown/unknown)',
      Signed: 'no'
    });
  });

  it('says where the attestations are, and how to verify a signature', () => {
    const signed = {
      name: 'a/b',
      tags: ['a/b:1'],
      digest: 'sha256:1',
      platforms: ['linux/amd64'],
      smoke: 'passed' as const,
      size: {},
      signature: { digest: 'sha256:1', verify: ['cosign verify --key cosign.pub a/b@sha256:1'] }
    };
    const rows = Object.fromEntries(summaryRows(signed, true, { provenance: 'false', sbom: true }));
    expect(rows.Attestations).toBe(
      'provenance: none (provenance: false), SBOM (SPDX), in the index: one attestation manifest per platform (platform unknown/unknown)'
    );
    expect(rows.Signed).toBe('<code>sha256:1</code><br>verify: <code>cosign verify --key cosign.pub a/b@sha256:1</code>');
    expect(Object.fromEntries(summaryRows(signed, true, { provenance: 'false', sbom: false })).Attestations).toBe(
      'provenance: none (provenance: false)'
    );
  });

  it('the Attested row: each attestation’s type, maker and digests, and the command that verifies it in each repository', () => {
    const test = 'https://in-toto.io/attestation/test-result/v0.1';
    const verify = (repo: string, d: string) => `cosign verify-attestation --key cosign.pub --type=${test} ${repo}@${d}`;
    const attested = {
      name: 'ghcr.io/a/b',
      tags: ['ghcr.io/a/b:1'],
      digest: 'sha256:9',
      platforms: ['linux/amd64'],
      smoke: 'passed' as const,
      size: {},
      attestations: [
        {
          predicateType: test,
          by: 'cosign' as const,
          digests: ['sha256:9', 'sha256:5'],
          verify: ['ghcr.io/a/b', 'docker.io/a/b'].flatMap((r) => ['sha256:9', 'sha256:5'].map((d) => verify(r, d)))
        },
        {
          predicateType: 'https://slsa.dev/provenance/v1',
          by: 'github' as const,
          digests: ['sha256:9'],
          verify: ['gh attestation verify oci://ghcr.io/a/b@sha256:9 --repo a/b']
        }
      ]
    };
    expect(Object.fromEntries(summaryRows(attested, true)).Attested).toBe(
      [
        `${test} (cosign) on <code>sha256:9</code>, <code>sha256:5</code>`,
        `verify: <code>${verify('ghcr.io/a/b', 'sha256:9')}</code>`,
        `verify: <code>${verify('ghcr.io/a/b', 'sha256:5')}</code>`,
        `verify: <code>${verify('docker.io/a/b', 'sha256:9')}</code>`,
        `verify: <code>${verify('docker.io/a/b', 'sha256:5')}</code>`,
        "https://slsa.dev/provenance/v1 (GitHub's artifact attestations) on <code>sha256:9</code>",
        'verify: <code>gh attestation verify oci://ghcr.io/a/b@sha256:9 --repo a/b</code>'
      ].join('<br>')
    );
    expect(Object.fromEntries(summaryRows({ ...attested, attestations: undefined }, true)).Attested).toBe('no');
  });
});

describe('where the time went', () => {
  it('times each phase, also one that fails, and lists them by start, in seconds', async () => {
    let t = 1000;
    const clock = new PhaseClock(() => t);
    t += 500;
    await clock.time('login', async () => void (t += 1200));
    const build = clock.time('build a/b', async () => void (t += 30_000));
    await expect(clock.time('load + smoke a/b linux/amd64', async () => Promise.reject(new Error('no')))).rejects.toThrow('no');
    await build;
    expect(phaseRows(clock.phases)).toEqual([
      ['login', '0.5 s', '1.2 s'],
      ['build a/b', '1.7 s', '30.0 s'],
      ['load + smoke a/b linux/amd64 (failed)', '31.7 s', '0.0 s']
    ]);
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
