// The derived Dockerfile (src/plan/derived-dockerfile.ts): which go build steps get the Go cache
// mounts, the text with them added (every other line as it was), the go env query, and the
// Dockerfile check's annotation. Each Dockerfile is a list of lines: element N is line N.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { checkDockerfile } from '../../src/plan/check.js';
import {
  derivedDockerfile,
  goBuildSteps,
  goEnvQuery,
  GOLANG_IMAGE_PATHS,
  parseGoEnv,
  stagesToAsk,
  type GoPaths
} from '../../src/plan/derived-dockerfile.js';
import { analyseDockerfile } from '../../src/plan/dockerfile.js';
import type { PlannedImage } from '../../src/plan/types.js';

const df = (...lines: string[]): string => lines.join('\n') + '\n';
const CACHE = '--mount=type=cache,target=/root/.cache/go-build';
const MODS = '--mount=type=cache,target=/go/pkg/mod';
/** The fixture's Dockerfile as most users write it: no cache mounts. */
const PLAIN = readFileSync(new URL('../../fixtures/go-app/Dockerfile', import.meta.url), 'utf8').replace(
  /RUN --mount=type=cache,target=\/root\/.cache\/go-build \\\n {4}--mount=type=cache,target=\/go\/pkg\/mod \\\n {4}/,
  'RUN '
);

/** The derived text with the golang image's paths (or `paths`), and the steps. */
function derive(text: string, paths: GoPaths | string = GOLANG_IMAGE_PATHS, target?: string) {
  const report = analyseDockerfile(text, target ? { target } : {});
  const steps = goBuildSteps(text, report, () => paths);
  return { report, steps, text: derivedDockerfile(text, steps), lines: derivedDockerfile(text, steps).split('\n') };
}

/** The lines that differ, as [line number, derived line]. */
const changed = (before: string, after: string): [number, string][] => {
  const a = before.split('\n');
  return after
    .split('\n')
    .map((l, i): [number, string] => [i + 1, l])
    .filter(([n, l]) => a[n - 1] !== l);
};

describe('the derived Dockerfile', () => {
  it('the fixture without its mounts: both mounts on the go build’s first line, every other line (# syntax comment, continuations) as it was', () => {
    expect(PLAIN).not.toContain('--mount');
    const d = derive(PLAIN);
    expect(d.text.split('\n')).toHaveLength(PLAIN.split('\n').length);
    const line = PLAIN.split('\n').findIndex((l) => l.startsWith('RUN ')) + 1;
    expect(changed(PLAIN, d.text)).toEqual([
      [line, `RUN ${CACHE} ${MODS} CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH GOARM=\${TARGETVARIANT#v} \\`]
    ]);
    expect(d.steps).toEqual([{ line, stage: 0, flags: [CACHE, MODS] }]);
    // Analysed again, the derived Dockerfile declares the mounts the Go cache phase restores and saves.
    expect(analyseDockerfile(d.text).cacheMounts.map((m) => [m.id, m.line])).toEqual([
      ['/root/.cache/go-build', line],
      ['/go/pkg/mod', line]
    ]);
  });

  it('keeps # syntax= and the other directives, and reads a `# escape=`` continuation', () => {
    const text = df(
      '# syntax=docker/dockerfile:1', // 1
      '# escape=`',
      'FROM --platform=$BUILDPLATFORM golang:1.24 AS build',
      'RUN CGO_ENABLED=0 `',
      '    go build -o /app .', // 5
      'FROM scratch',
      'COPY --from=build /app /app'
    );
    expect(changed(text, derive(text).text)).toEqual([[4, `RUN ${CACHE} ${MODS} CGO_ENABLED=0 \``]]);
  });

  it('several stages: the build stages get the mounts, the final stage and a stage it is FROM stay as written', () => {
    const text = df(
      'FROM golang:1.24 AS tools', // 1
      'RUN go install golang.org/x/tools/cmd/stringer@v0.1.0',
      'FROM --platform=$BUILDPLATFORM golang:1.24 AS build',
      'COPY . .',
      'RUN go build -o /out/app ./cmd/app', // 5
      'FROM golang:1.24 AS base',
      'RUN go build -o /usr/local/bin/helper ./cmd/helper',
      'FROM base',
      'COPY --from=build /out/app /app',
      'COPY --from=tools /go/bin/stringer /usr/local/bin/' // 10
    );
    const d = derive(text);
    expect(stagesToAsk(d.report)).toEqual([0, 1]);
    expect(d.steps.map((s) => [s.line, s.kept === undefined])).toEqual([
      [2, true],
      [5, true],
      [7, false]
    ]);
    expect(d.steps[2]?.kept).toBe('stage "base" is part of the image, which a cache mount would change (its caches would leave it)');
    expect(changed(text, d.text).map(([n]) => n)).toEqual([2, 5]);
    expect(d.lines[1]).toBe(`RUN ${CACHE} ${MODS} go install golang.org/x/tools/cmd/stringer@v0.1.0`);
  });

  it('a single-stage build stays as written (its caches would leave the image)', () => {
    const text = df('FROM golang:1.24', 'COPY . .', 'RUN go build -o /app .', 'CMD ["/app"]');
    const d = derive(text);
    expect(d.steps).toHaveLength(1);
    expect(d.steps[0]?.kept).toMatch(/is part of the image/);
    expect(d.text).toBe(text);
    expect(stagesToAsk(d.report)).toEqual([]);
  });

  it('a heredoc, exec form and lowercase keywords get the flags after the keyword; the heredoc body stays', () => {
    const text = df(
      'from --platform=$BUILDPLATFORM golang:1.24 as build', // 1
      'run <<EOF',
      'set -e',
      'go build -o /a ./a',
      'EOF', // 5
      'RUN ["go", "build", "-o", "/b", "./b"]',
      '  RUN    go install ./cmd/c',
      'FROM scratch',
      'COPY --from=build /a /b /go/bin/c /'
    );
    expect(changed(text, derive(text).text)).toEqual([
      [2, `run ${CACHE} ${MODS} <<EOF`],
      [6, `RUN ${CACHE} ${MODS} ["go", "build", "-o", "/b", "./b"]`],
      [7, `  RUN ${CACHE} ${MODS}    go install ./cmd/c`]
    ]);
  });

  it('leaves a RUN that has a cache mount alone, and keeps other mounts, adding its own before them', () => {
    const text = df(
      'FROM --platform=$BUILDPLATFORM golang:1.24 AS build', // 1
      'RUN --mount=type=bind,source=.,target=/src go build -o /b ./b',
      'RUN --mount=type=cache,target=/root/.cache/go-build,id=mine go build -o /a ./a',
      'RUN --mount=type=secret,id=netrc,target=/root/.netrc go build -o /c ./c',
      'FROM scratch', // 5
      'COPY --from=build /a /b /c /'
    );
    const d = derive(text);
    expect(changed(text, d.text)).toEqual([
      [2, `RUN ${CACHE} ${MODS} --mount=type=bind,source=.,target=/src go build -o /b ./b`],
      // A step that reads a secret: private modules stay out of a shared cache.
      [4, `RUN ${CACHE} --mount=type=secret,id=netrc,target=/root/.netrc go build -o /c ./c`]
    ]);
    expect(d.steps.find((s) => s.line === 4)?.noModuleCache).toMatch(/reads a secret/);
  });

  it('a stage FROM another stage: no module cache over the modules an earlier go mod download left in its layer', () => {
    const text = df(
      'FROM --platform=$BUILDPLATFORM golang:1.24 AS deps', // 1
      'COPY go.mod go.sum ./',
      'RUN go mod download',
      'FROM deps AS build',
      'COPY . .', // 5
      'RUN go build -o /app .',
      'FROM --platform=$BUILDPLATFORM golang:1.24 AS plain',
      'FROM plain AS other',
      'RUN go build -o /other ./other',
      'FROM scratch', // 10
      'COPY --from=build /app /app',
      'COPY --from=other /other /other'
    );
    const d = derive(text);
    expect(changed(text, d.text)).toEqual([
      [6, `RUN ${CACHE} go build -o /app .`],
      [9, `RUN ${CACHE} ${MODS} go build -o /other ./other`]
    ]);
    expect(d.steps[0]?.noModuleCache).toBe('line 3 runs go without it, so the modules are in that layer');
  });

  it('a stage whose cache directories are copied out, or bound whole into another step, stays as written', () => {
    const copies = (copy: string) =>
      df('FROM --platform=$BUILDPLATFORM golang:1.24 AS build', 'RUN go build -o /root/app .', 'FROM scratch', copy);
    expect(derive(copies('COPY --from=build /root/ /root/')).steps[0]?.kept).toBe(
      'line 4 copies /root/ out of it, which would then lack the caches'
    );
    expect(derive(copies('COPY --from=build / /')).steps[0]?.kept).toMatch(/^line 4 copies \/ out of it/);
    expect(derive(copies('COPY --from=0 /go/* /go/')).steps[0]?.kept).toMatch(/^line 4 copies \/go\/\* out of it/);
    expect(derive(copies('COPY --from=build /root/.c* /x/')).steps[0]?.kept).toMatch(/^line 4 copies \/root\/\.c\* out of it/);
    expect(derive(copies('RUN --mount=type=bind,from=build,target=/b cp /b/root/app /app')).steps[0]?.kept).toMatch(/copies \/ out/);
    // What only names the binary leaves the caches behind: the mounts are added.
    expect(derive(copies('COPY --from=build /root/app /app')).steps[0]?.kept).toBeUndefined();
    expect(derive(copies('RUN --mount=from=build,source=/root/app,target=/a true')).steps[0]?.kept).toBeUndefined();
  });

  it('a --target build: a stage the target does not use is not touched', () => {
    const text = df(
      'FROM --platform=$BUILDPLATFORM golang:1.24 AS build',
      'RUN go build -o /app .',
      'FROM --platform=$BUILDPLATFORM golang:1.24 AS lint',
      'RUN go vet ./... && go build ./...',
      'FROM scratch AS release',
      'COPY --from=build /app /app'
    );
    expect(derive(text, GOLANG_IMAGE_PATHS, 'release').steps.map((s) => s.line)).toEqual([2]);
  });

  it('the paths of the stage’s image, with its user as the mount owner; an unknown answer leaves the step as written', () => {
    const text = df(
      'FROM --platform=$BUILDPLATFORM golang:1.24 AS build',
      'RUN go build -o /app .',
      'FROM scratch',
      'COPY --from=build /app /app'
    );
    const user = derive(text, { gocache: '/home/gopher/.cache/go-build', gomodcache: '/home/gopher/go/pkg/mod', uid: '1000', gid: '1001' });
    expect(user.lines[1]).toBe(
      'RUN --mount=type=cache,target=/home/gopher/.cache/go-build,uid=1000,gid=1001 --mount=type=cache,target=/home/gopher/go/pkg/mod,uid=1000,gid=1001 go build -o /app .'
    );
    const unknown = derive(text, 'go env failed: no go here');
    expect(unknown.steps[0]?.kept).toBe('go env failed: no go here');
    expect(unknown.text).toBe(text);
  });
});

describe('asking the stage’s image where Go keeps its caches', () => {
  it('the query: the global ARGs, the root stage’s FROM on the build platform, its ARG/ENV/USER lines up to the go build, then go env and id', () => {
    const text = df(
      'ARG GO_IMAGE=golang:1.24', // 1
      'FROM ${GO_IMAGE} AS base',
      'ENV GOPATH=/work',
      'FROM base AS build',
      'ARG VERSION TARGETOS', // 5
      'USER gopher',
      'RUN go build -o /tmp/app .',
      'USER root',
      'FROM scratch',
      'COPY --from=build /tmp/app /app' // 10
    );
    const report = analyseDockerfile(text);
    expect(stagesToAsk(report)).toEqual([1]);
    expect(goEnvQuery(text, report, 1)).toEqual({
      dockerfile: df(
        'ARG GO_IMAGE=golang:1.24',
        'FROM --platform=$BUILDPLATFORM ${GO_IMAGE} AS gdp-go-env',
        'ENV GOPATH=/work',
        'ARG VERSION TARGETOS',
        'USER gopher',
        'RUN go env GOCACHE GOMODCACHE > /tmp/gdp-go-env && id -u >> /tmp/gdp-go-env && id -g >> /tmp/gdp-go-env',
        'FROM scratch',
        'COPY --from=gdp-go-env /tmp/gdp-go-env /gdp-go-env'
      ),
      args: ['GO_IMAGE', 'VERSION', 'TARGETOS']
    });
  });

  it('reads the answer: two absolute paths and a user; root needs no owner; GOCACHE=off or anything else is a reason', () => {
    expect(parseGoEnv('/root/.cache/go-build\n/root/go/pkg/mod\n0\n0\n')).toEqual({
      gocache: '/root/.cache/go-build',
      gomodcache: '/root/go/pkg/mod'
    });
    expect(parseGoEnv('/home/u/.cache/go-build\n/home/u/go/pkg/mod\n1000\n1000\n')).toMatchObject({ uid: '1000', gid: '1000' });
    expect(parseGoEnv('off\n/go/pkg/mod\n0\n0\n')).toBe('GOCACHE=off in that stage');
    expect(parseGoEnv('/my cache\n/go/pkg/mod\n0\n0')).toMatch(/not two absolute paths/);
    expect(parseGoEnv('')).toMatch(/not two absolute paths/);
  });
});

describe('the Dockerfile check’s annotation', () => {
  const img = {
    name: 'ghcr.io/example/tunnel',
    dockerfile: 'Dockerfile',
    platforms: ['linux/amd64'],
    buildArgs: {}
  } as unknown as PlannedImage;

  it('a notice on the go build’s line with the mounts to add; none for the fixture as it is', () => {
    const line = PLAIN.split('\n').findIndex((l) => l.startsWith('RUN ')) + 1;
    const f = checkDockerfile(img, PLAIN, 'linux/amd64').findings;
    expect(f.map((x) => [x.line, x.code, x.severity])).toEqual([[line, 'go-cache-mount-missing', 'notice']]);
    expect(f[0]?.message).toBe(
      `stage "build" runs go build at line ${line} with no Go build cache mount, so every release (a new -X main.version) compiles every package again: ` +
        `add ${CACHE} ${MODS} to that RUN (the golang image's paths; \`go env GOCACHE GOMODCACHE\` in the stage gives its own). ` +
        'With go-cache: auto the action keeps the caches between runs.'
    );
    const fixture = readFileSync(new URL('../../fixtures/go-app/Dockerfile', import.meta.url), 'utf8');
    expect(checkDockerfile(img, fixture, 'linux/amd64').findings).toEqual([]);
  });

  it('says why the action leaves a step as written', () => {
    const f = checkDockerfile(img, df('FROM golang:1.24', 'RUN go build -o /app .'), 'linux/amd64').findings;
    expect(f.find((x) => x.code === 'go-cache-mount-missing')?.message).toMatch(
      /: add .* to that RUN \(.*\); the action leaves it as written: stage 0 is part of the image, which a cache mount would change/
    );
  });
});
