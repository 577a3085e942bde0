// The derived Dockerfile phase (src/run/derived-dockerfile.ts) with a fake engine: it asks the
// stage's image (go env) once, writes the copy with its .dockerignore, makes it the build's
// --file, hands the mounts to the Go cache phase, and says what it added; go-cache: false and
// Dockerfiles with their own mounts are left alone. And the dry run shows it all.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, jest } from '@jest/globals';
import { applyChecks } from '../../src/plan/check.js';
import { buildPlan } from '../../src/plan/plan.js';
import type { Plan } from '../../src/plan/types.js';
import { describePlan } from '../../src/report/plan-text.js';
import { checkDockerfiles } from '../../src/run/check.js';
import { deriveDockerfiles } from '../../src/run/derived-dockerfile.js';
import type { ExecResult } from '../../src/run/runner.js';
import { recordedCommands } from '../support/dry-run.js';
import { platformEngine } from '../support/fake-engine.js';
import { FakeRunner } from '../support/fake-runner.js';
import { ctxFor, inputsFor } from '../support/plan-inputs.js';

const PLAIN = [
  'ARG GO_IMAGE=golang:1.24-alpine', // 1
  'FROM --platform=$BUILDPLATFORM ${GO_IMAGE} AS build',
  'ARG TARGETOS TARGETARCH VERSION=dev',
  'COPY . .',
  'RUN CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH go build -ldflags "-X main.version=$VERSION" -o /out/app .', // 5
  'FROM scratch',
  'COPY --from=build /out/app /app',
  ''
].join('\n');
const DECLARED = PLAIN.replace('RUN CGO', 'RUN --mount=type=cache,target=/root/.cache/go-build CGO');

/** A workspace with these files, and a checked plan of one image per Dockerfile. */
function setup(files: Record<string, string>, over: Partial<Parameters<typeof inputsFor>[1]> = {}): { plan: Plan; workspace: string } {
  const workspace = mkdtempSync(join(tmpdir(), 'gdp-unit-'));
  for (const [f, text] of Object.entries(files)) writeFileSync(join(workspace, f), text);
  const images = Object.keys(files)
    .filter((f) => !f.endsWith('.dockerignore'))
    .map((f, i) => ({
      names: [`ghcr.io/example/app${i}`],
      dockerfile: f,
      context: '.',
      platforms: ['linux/amd64'],
      buildArgs: { GO_IMAGE: 'localhost:5150/gdp/golang:local' },
      labels: {},
      smoke: { enabled: false as const }
    }));
  const plan = buildPlan(inputsFor(images, { cache: 'none', ...over }), ctxFor('release-published'), 'amd64');
  applyChecks(plan, (f) => files[f] ?? '', 'linux/amd64', 2);
  return { plan, workspace };
}

/** Answers go env as an image with GOPATH unset (Debian's Go) does: the module cache under $HOME/go. */
const goEnv =
  (answer = '/root/.cache/go-build\n/root/go/pkg/mod\n0\n0\n', exitCode = 0) =>
  (a: string[]): Partial<ExecResult> => {
    const dest = a.find((x) => x.startsWith('--output=type=local,dest='))?.slice('--output=type=local,dest='.length);
    if (dest && exitCode === 0) {
      mkdirSync(dest, { recursive: true });
      writeFileSync(join(dest, 'gdp-go-env'), answer);
    }
    return { exitCode, stderr: exitCode ? 'ERROR: pull access denied' : '' };
  };

const CACHE = '--mount=type=cache,target=/root/.cache/go-build';
const MODS = '--mount=type=cache,target=/root/go/pkg/mod';

describe('the derived Dockerfile phase', () => {
  it('asks the image once for two images of one Dockerfile, writes the copies, and the Go cache phase gets the mounts', async () => {
    const { plan, workspace } = setup({ Dockerfile: PLAIN, 'Dockerfile.dockerignore': '*.md\n', 'Dockerfile.b': PLAIN });
    const tmp = mkdtempSync(join(tmpdir(), 'gdp-unit-'));
    const r = new FakeRunner(goEnv());
    const out = await deriveDockerfiles(plan, 'gdp-builder', r, { tmp, workspace, dryRun: false });
    expect(r.calls).toHaveLength(1);
    expect(r.calls[0]).toEqual([
      'buildx',
      'build',
      '--builder=gdp-builder',
      '--progress=plain',
      '--build-arg=GO_IMAGE=localhost:5150/gdp/golang:local',
      '--build-arg=VERSION=v2.3.1',
      `--file=${tmp}/go-env-0/Dockerfile`,
      `--output=type=local,dest=${tmp}/go-env-0/out`,
      `${tmp}/go-env-0`
    ]);
    const [a, b] = plan.images;
    expect(out).toEqual([`line 5: ${CACHE} ${MODS}`, `line 5: ${CACHE} ${MODS}`]);
    expect(a?.derived).toEqual({ file: `${tmp}/derived-0/Dockerfile`, added: [{ line: 5, flags: [CACHE, MODS] }] });
    expect(b?.derived?.file).toBe(`${tmp}/derived-1/Dockerfile.b`);
    const derived = readFileSync(`${tmp}/derived-0/Dockerfile`, 'utf8');
    expect(derived).toBe(PLAIN.replace('RUN CGO', `RUN ${CACHE} ${MODS} CGO`));
    expect(readFileSync(`${tmp}/derived-0/Dockerfile.dockerignore`, 'utf8')).toBe('*.md\n');
    expect(a?.check?.goCache).toEqual({
      baseImage: 'localhost:5150/gdp/golang:local',
      mounts: [
        { id: '/root/.cache/go-build', target: '/root/.cache/go-build' },
        { id: '/root/go/pkg/mod', target: '/root/go/pkg/mod' }
      ]
    });
    // The check's finding now says what this run adds, with the image's own paths.
    expect(a?.check?.findings.map((f) => f.message)).toEqual([
      `stage "build" runs go build at line 5 with no Go build cache mount, so every release (a new -X main.version) compiles every package again: ` +
        `this run builds from a derived copy of the Dockerfile that adds ${CACHE} ${MODS} to that RUN (the paths go env gives in localhost:5150/gdp/golang:local); ` +
        'add them to the Dockerfile to make it permanent.'
    ]);
  });

  it('leaves alone a Dockerfile with its own mounts, and every Dockerfile with go-cache: false', async () => {
    const declared = setup({ Dockerfile: DECLARED });
    const r = new FakeRunner(goEnv());
    const tmp = mkdtempSync(join(tmpdir(), 'gdp-unit-'));
    expect(await deriveDockerfiles(declared.plan, 'b', r, { tmp, workspace: declared.workspace, dryRun: false })).toEqual([undefined]);
    const off = setup({ Dockerfile: PLAIN }, { goCache: 'false' });
    expect(await deriveDockerfiles(off.plan, 'b', r, { tmp, workspace: off.workspace, dryRun: false })).toEqual([]);
    expect(r.calls).toEqual([]);
    expect(off.plan.images[0]?.derived).toBeUndefined();
    expect(off.plan.images[0]?.check?.findings.map((f) => f.code)).toEqual(['go-cache-mount-missing']);
  });

  it('an image that cannot be asked: the Dockerfile as written, the check’s finding kept with why', async () => {
    const { plan, workspace } = setup({ Dockerfile: PLAIN });
    const tmp = mkdtempSync(join(tmpdir(), 'gdp-unit-'));
    const out = await deriveDockerfiles(plan, 'b', new FakeRunner(goEnv('', 1)), { tmp, workspace, dryRun: false });
    expect(out).toEqual([undefined]);
    expect(plan.images[0]?.derived).toBeUndefined();
    expect(plan.images[0]?.check?.findings[0]?.message).toMatch(
      /the action leaves it as written: go env failed: ERROR: pull access denied\. With go-cache: auto/
    );
    const nonRoot = setup({ Dockerfile: PLAIN });
    await deriveDockerfiles(nonRoot.plan, 'b', new FakeRunner(goEnv('/home/u/.cache/go-build\n/home/u/go/pkg/mod\n1000\n1000\n')), {
      tmp: mkdtempSync(join(tmpdir(), 'gdp-unit-')),
      workspace: nonRoot.workspace,
      dryRun: false
    });
    expect(nonRoot.plan.images[0]?.derived?.added[0]?.flags).toEqual([
      '--mount=type=cache,target=/home/u/.cache/go-build,uid=1000,gid=1000',
      '--mount=type=cache,target=/home/u/go/pkg/mod,uid=1000,gid=1000'
    ]);
  });
});

describe('the annotation of a go build with no cache mount', () => {
  /** What checkDockerfiles writes to the log. */
  const logOf = (plan: Plan, workspace: string): string => {
    let out = '';
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((out += String(chunk)), true));
    try {
      checkDockerfiles(plan, workspace);
    } finally {
      spy.mockRestore();
    }
    return out;
  };

  it('comes from the derived Dockerfile phase (which knows the paths) with go-cache: auto, from the check with go-cache: false', () => {
    const auto = setup({ Dockerfile: PLAIN });
    expect(logOf(auto.plan, auto.workspace)).not.toContain('go-cache-mount-missing');
    const off = setup({ Dockerfile: PLAIN }, { goCache: 'false' });
    expect(logOf(off.plan, off.workspace)).toMatch(
      /::notice title=Dockerfile check \(go-cache-mount-missing\),file=Dockerfile,line=5::ghcr.io\/example\/app0: Dockerfile:5: stage "build" runs go build/
    );
  });
});

describe('the dry run of a Dockerfile without cache mounts', () => {
  it('records the go env query, then builds and pushes with --file= the derived copy, and the plan says what was added', async () => {
    const { plan, workspace } = setup({ Dockerfile: PLAIN }, { push: 'true' });
    const { calls, result } = await recordedCommands(plan, { reads: platformEngine('amd64'), env: { workspace } });
    expect(result.error).toBeUndefined();
    const builds = calls.filter((c) => c[0] === 'buildx' && c[1] === 'build');
    expect(builds[0]?.some((a) => a.endsWith('/go-env-0/out'))).toBe(true);
    const main = builds.slice(1);
    expect(main.map((c) => c.find((a) => a.startsWith('--output='))?.split(',')[0])).toEqual([
      '--output=type=cacheonly',
      '--output=type=image'
    ]);
    for (const c of main) expect(c.find((a) => a.startsWith('--file='))).toMatch(/^--file=\/.*\/derived-0\/Dockerfile$/);
    const text = describePlan(plan, calls);
    expect(text).toMatch(
      / {2}derived Dockerfile \(the build's --file\): \/.*\/derived-0\/Dockerfile\n {4}line 5: added --mount=type=cache,target=\/root\/.cache\/go-build --mount=type=cache,target=\/go\/pkg\/mod\n/
    );
    expect(text).toContain('  Go cache mounts: /root/.cache/go-build, /go/pkg/mod');
    expect(plan.images[0]?.check?.findings[0]?.message).toContain("(the golang image's paths: a dry run does not ask the image)");
  });
});
