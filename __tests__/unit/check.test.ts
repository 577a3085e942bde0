import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { applyChecks, checkDockerfile } from '../../src/plan/check.js';
import type { Plan, PlannedImage } from '../../src/plan/types.js';
import { qemuPlatforms } from '../../src/run/qemu.js';

const FIXTURE = fileURLToPath(new URL('../../fixtures/go-app', import.meta.url));
const EIGHT = ['linux/amd64', 'linux/arm64', 'linux/arm/v7', 'linux/arm/v6', 'linux/386', 'linux/ppc64le', 'linux/s390x', 'linux/riscv64'];

const img = (over: Partial<PlannedImage> = {}): PlannedImage => ({
  name: 'ghcr.io/example/tunnel',
  repositories: ['ghcr.io/example/tunnel'],
  refs: ['ghcr.io/example/tunnel:v1'],
  dockerfile: 'Dockerfile',
  context: '.',
  platforms: EIGHT,
  buildArgs: { GO_IMAGE: 'golang:1.24-alpine' },
  labels: {},
  annotations: {},
  smoke: { enabled: true, args: [], env: {}, timeoutSeconds: 60, wait: { kind: 'up', seconds: 5 } },
  cacheScope: 'tunnel',
  ...over
});

const NAIVE = `ARG GO_IMAGE=golang:1.24
FROM \${GO_IMAGE} AS build
ARG GOMAXPROCS
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/root/.cache/go-build CGO_ENABLED=0 go build -o /out/app .
FROM scratch
COPY --from=build /out/app /app
`;

describe('the Dockerfile check applied to an image', () => {
  it('the fixture (cross-compiled into busybox): no findings; RUN steps only on the build platform; both Go cache mounts', () => {
    const c = checkDockerfile(img(), readFileSync(join(FIXTURE, 'Dockerfile'), 'utf8'), 'linux/amd64');
    expect(c.findings).toEqual([]);
    expect(c.executes).toEqual(['linux/amd64']);
    expect(c.goUnderEmulation).toEqual([]);
    expect(c.goCache).toEqual({
      baseImage: 'golang:1.24-alpine',
      mounts: [
        { id: '/root/.cache/go-build', target: '/root/.cache/go-build' },
        { id: '/go/pkg/mod', target: '/go/pkg/mod' }
      ]
    });
  });

  it('a Go compile under QEMU: a warning with its line, every non-native platform listed, the Go image from the ARG default', () => {
    const c = checkDockerfile(img({ buildArgs: {} }), NAIVE, 'linux/amd64');
    expect(c.findings.map((f) => [f.code, f.line])).toEqual([['go-under-qemu', 6]]);
    expect(c.goUnderEmulation).toEqual(['linux/arm64', 'linux/arm/v7', 'linux/arm/v6', 'linux/ppc64le', 'linux/s390x', 'linux/riscv64']);
    expect(c.executes).toEqual(EIGHT);
    expect(c.goCache?.baseImage).toBe('golang:1.24');
  });

  it('an alpine final stage with RUN: a notice naming the emulated platforms; none for a native-only build', () => {
    const df = 'FROM alpine:3.20\nRUN apk add --no-cache ca-certificates\n';
    const c = checkDockerfile(img({ platforms: ['linux/amd64', 'linux/arm64'] }), df, 'linux/amd64');
    expect(c.findings).toHaveLength(1);
    expect(c.findings[0]).toMatchObject({ code: 'final-stage-emulated', severity: 'notice', line: 2 });
    expect(c.findings[0]?.message).toMatch(/Emulated here: linux\/arm64\.$/);
    expect(checkDockerfile(img({ platforms: ['linux/amd64'] }), df, 'linux/amd64').findings).toEqual([]);
    expect(c.goCache).toBeUndefined();
  });
});

describe('applyChecks on a plan', () => {
  const plan = (images: PlannedImage[], over: Partial<Plan> = {}): Plan =>
    ({ images, smokePlatforms: 'native', qemu: 'auto', builderEndpoints: [], ...over }) as unknown as Plan;

  it('GOMAXPROCS only for a build whose Go compile is emulated, and never over the workflow’s own value', () => {
    const naive = img({ buildArgs: {} });
    const cross = img({ name: 'b' });
    const own = img({ name: 'c', buildArgs: { GOMAXPROCS: '1' } });
    const log = applyChecks(plan([naive, cross, own]), (f) => (f === 'Dockerfile' ? NAIVE : ''), 'linux/amd64', 4);
    expect(naive.buildArgs.GOMAXPROCS).toBe('4');
    expect(own.buildArgs.GOMAXPROCS).toBe('1');
    expect(log.notices).toHaveLength(2);
    expect(log.warnings).toEqual([]);
    expect(log.notices[0]).toMatch(/Go compiles under QEMU for linux\/arm64.*GOMAXPROCS=4/);
    expect(cross.check).toBeDefined();
  });

  it('QEMU only where something executes: a cross-compiled image smoke-tested natively needs none; smoke-platforms: all needs all', () => {
    const cross = img();
    applyChecks(plan([cross]), () => readFileSync(join(FIXTURE, 'Dockerfile'), 'utf8'), 'linux/amd64', 2);
    const native = (i: PlannedImage): string[] => [i.platforms[0] ?? ''];
    expect(qemuPlatforms(plan([cross]), native)).toEqual(['linux/amd64']);
    expect(qemuPlatforms(plan([cross]), (i) => i.platforms)).toEqual(EIGHT);
    // Without the check (a plan made without reading the Dockerfile): every platform.
    expect(qemuPlatforms(plan([img()]), native)).toEqual(EIGHT);
  });

  it('platforms a build node builds are neither emulated here nor given GOMAXPROCS', () => {
    const naive = img({ buildArgs: {}, platforms: ['linux/amd64', 'linux/arm64'] });
    const p = plan([naive], { builderEndpoints: [{ endpoint: 'ssh://b@arm', platforms: ['linux/arm64'] }] });
    const log = applyChecks(p, () => NAIVE, 'linux/amd64', 4);
    expect(naive.check?.goUnderEmulation).toEqual([]);
    expect(naive.buildArgs.GOMAXPROCS).toBeUndefined();
    expect(log.notices).toEqual([]);
    expect(qemuPlatforms(p, (i) => [i.platforms[0] ?? ''])).toEqual(['linux/amd64']);
  });

  it('a Dockerfile the check cannot follow leaves only that image unchecked, with a warning', () => {
    const bad = img({ name: 'bad', target: 'nope' });
    const good = img({ name: 'good', buildArgs: {} });
    const log = applyChecks(plan([bad, good]), () => NAIVE, 'linux/amd64', 2);
    expect(bad.check).toBeUndefined();
    expect(good.check?.findings.map((f) => f.code)).toEqual(['go-under-qemu']);
    expect(log.warnings).toEqual([expect.stringMatching(/^bad: Dockerfile check skipped: .*nope/)]);
  });
});
