// Dockerfile analysis (src/plan/dockerfile.ts). Each Dockerfile is written as a list of lines, so
// line N of the file is element N of the list (counting from 1).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { analyseDockerfile, platformsExecuted, type DockerfileReport } from '../../src/plan/dockerfile.js';
import { parseDockerfile } from '../../src/plan/dockerfile-parser.js';

const df = (...lines: string[]): string => lines.join('\n') + '\n';
const codes = (r: DockerfileReport): [number, string][] => r.findings.map((f) => [f.line, f.code]);
const fixture = (name: string): string => readFileSync(new URL(`../../fixtures/go-app/${name}`, import.meta.url), 'utf8');

const GOOD = df(
  'FROM --platform=$BUILDPLATFORM golang:1.24-alpine AS build', // 1
  'ARG TARGETOS TARGETARCH TARGETVARIANT',
  'WORKDIR /src',
  'COPY . .',
  'RUN CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH GOARM=${TARGETVARIANT#v} go build -o /out/app ./cmd/app', // 5
  'FROM scratch',
  'COPY --from=build /out/app /app',
  'ENTRYPOINT ["/app"]'
);
const ALL = ['linux/amd64', 'linux/arm64', 'linux/arm/v7', 'linux/arm/v6'];

describe('parseDockerfile', () => {
  it('reads directives, continuations with comments and blank lines, flags, JSON form and heredocs', () => {
    const { instructions, directives } = parseDockerfile(
      df(
        '# syntax=docker/dockerfile:1.7', // 1
        '# check=skip=all',
        '# escape=\\',
        '# a comment, so the next line is not a directive',
        '# escape=`', // 5: a comment now
        'from --platform=$BUILDPLATFORM golang as build',
        'run --mount=type=cache,target=/go/pkg/mod \\',
        '    # a comment inside the continuation',
        '',
        '    go mod download', // 10
        'RUN ["go", "build", "-o", "/app", "."]',
        'RUN <<EOF',
        'FROM not-an-instruction',
        'go build ./...',
        'EOF', // 15
        '  COPY <<-"END" /etc/app.conf',
        '\tkey=value',
        '\tEND',
        'RUN echo "a <<b" && cat <<<x', // 19: no heredoc
        'CMD echo done'
      )
    );
    expect(directives).toEqual({ syntax: 'docker/dockerfile:1.7', check: 'skip=all', escape: '\\' });
    expect(instructions.map((i) => [i.keyword, i.line, i.endLine])).toEqual([
      ['FROM', 6, 6],
      ['RUN', 7, 10],
      ['RUN', 11, 11],
      ['RUN', 12, 15],
      ['COPY', 16, 18],
      ['RUN', 19, 19],
      ['CMD', 20, 20]
    ]);
    const [from, mod, json, here, copy] = instructions;
    expect(from?.flags).toEqual([{ name: 'platform', value: '$BUILDPLATFORM' }]);
    expect(from?.args).toBe('golang as build');
    expect(mod?.flags).toEqual([{ name: 'mount', value: 'type=cache,target=/go/pkg/mod' }]);
    expect(mod?.args).toBe('go mod download');
    expect(json?.json).toEqual(['go', 'build', '-o', '/app', '.']);
    expect(here?.heredocs).toEqual([{ name: 'EOF', chomp: false, body: 'FROM not-an-instruction\ngo build ./...' }]);
    expect(copy?.heredocs).toEqual([{ name: 'END', chomp: true, body: 'key=value' }]);
    expect(copy?.args).toBe('<<-"END" /etc/app.conf');
  });

  it('honours # escape=` (a trailing backslash is then plain text)', () => {
    const { instructions, directives } = parseDockerfile(
      df(
        '# escape=`', // 1
        'FROM mcr.microsoft.com/windows/servercore:ltsc2022',
        'COPY app.exe C:\\app\\',
        'RUN setx PATH C:\\app `',
        '    && echo ok', // 5
        'CMD ["C:\\\\app\\\\app.exe"]'
      )
    );
    expect(directives).toEqual({ escape: '`' });
    expect(instructions.map((i) => [i.keyword, i.line, i.args])).toEqual([
      ['FROM', 2, 'mcr.microsoft.com/windows/servercore:ltsc2022'],
      ['COPY', 3, 'app.exe C:\\app\\'],
      ['RUN', 4, 'setx PATH C:\\app     && echo ok'],
      ['CMD', 6, '["C:\\\\app\\\\app.exe"]']
    ]);
  });
});

describe('analyseDockerfile: clean Dockerfiles', () => {
  it('a cross-compiled build into scratch has no findings', () => {
    const r = analyseDockerfile(GOOD, { platforms: ALL });
    expect(r.findings).toEqual([]);
    expect(r.goCompileUnderEmulation).toBe(false);
    expect(r.target).toBe(1);
    expect(r.used).toEqual([0, 1]);
    expect(r.stages[0]).toMatchObject({ index: 0, name: 'build', fromLine: 1, platformFlag: '$BUILDPLATFORM', buildPlatform: true });
    expect(r.stages[1]).toMatchObject({ index: 1, from: 'scratch', fromLine: 6, buildPlatform: false, scratchLike: true, copiesFrom: [0] });
    expect(r.stages[1]?.base).toBeUndefined();
    expect(r.stages[0]?.runs.map((x) => x.line)).toEqual([5]);
    // Only the build stage executes anything, on the build platform.
    expect(platformsExecuted(r, ['linux/amd64', 'linux/arm64'], 'linux/amd64')).toEqual(['linux/amd64']);
    expect(platformsExecuted(r, ['linux/arm64', 'linux/arm/v7'], 'linux/amd64')).toEqual(['linux/amd64']);
  });

  it.each(['Dockerfile', 'Dockerfile.web'])('fixtures/go-app/%s has no findings', (name) => {
    const r = analyseDockerfile(fixture(name), { platforms: ALL, buildArgs: { GO_IMAGE: 'gdp/golang:local' } });
    expect(r.findings).toEqual([]);
    expect(r.stages[0]).toMatchObject({ name: 'build', fromLine: name === 'Dockerfile' ? 7 : 3, buildPlatform: true });
    expect(r.cacheMounts.map((m) => m.id)).toEqual(['/root/.cache/go-build', '/go/pkg/mod']);
    expect(r.stages[1]?.scratchLike).toBe(name === 'Dockerfile.web');
    expect(platformsExecuted(r, ['linux/amd64', 'linux/arm64', 'linux/arm/v7'], 'linux/amd64')).toEqual(['linux/amd64']);
  });

  it('accepts GOOS/GOARCH from ENV, from go env -w, from a base stage, and tonistiigi/xx', () => {
    const env = df(
      'FROM --platform=${BUILDPLATFORM} golang:1.24 AS base', // 1
      'ARG TARGETOS TARGETARCH',
      'ENV CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH}',
      'FROM base AS build',
      'RUN go build -o /app .', // 5
      'FROM gcr.io/distroless/static-debian12',
      'COPY --from=build /app /app'
    );
    const r = analyseDockerfile(env, {});
    expect(r.findings).toEqual([]);
    expect(r.stages[1]).toMatchObject({ base: 0, buildPlatform: false });
    expect(r.stages[2]?.scratchLike).toBe(true);
    expect(r.used).toEqual([0, 1, 2]);

    const goEnv = df(
      'FROM --platform=$BUILDPLATFORM golang:1.24 AS build', // 1
      'ARG TARGETOS',
      'ARG TARGETARCH',
      'RUN go env -w CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH',
      'RUN go build -o /app .', // 5
      'FROM scratch',
      'COPY --from=build /app /app'
    );
    expect(analyseDockerfile(goEnv, {}).findings).toEqual([]);

    const xx = df(
      'FROM --platform=$BUILDPLATFORM tonistiigi/xx AS xx', // 1
      'FROM --platform=$BUILDPLATFORM golang:1.24-alpine AS build',
      'COPY --from=xx / /',
      'ARG TARGETPLATFORM',
      'RUN CGO_ENABLED=0 xx-go build -o /app . && xx-verify /app', // 5
      'FROM scratch',
      'COPY --from=build /app /app'
    );
    const rx = analyseDockerfile(xx, { platforms: ALL });
    expect(rx.findings).toEqual([]);
    expect(rx.used).toEqual([0, 1, 2]);
  });
});

describe('analyseDockerfile: findings', () => {
  it('go build without --platform=$BUILDPLATFORM compiles under QEMU (also in && chains and exec form)', () => {
    const r = analyseDockerfile(
      df(
        'FROM golang:1.24 AS build', // 1
        'WORKDIR /src',
        'RUN go mod download && \\',
        '    CGO_ENABLED=0 go build -o /app .',
        'RUN ["go", "install", "github.com/go-delve/delve/cmd/dlv@latest"]', // 5
        'FROM alpine:3.20',
        'COPY --from=build /app /app'
      ),
      {}
    );
    expect(codes(r)).toEqual([
      [3, 'go-under-qemu'],
      [5, 'go-under-qemu']
    ]);
    expect(r.findings[0]?.severity).toBe('warning');
    expect(r.findings[0]?.message).toContain('stage "build"');
    expect(r.findings[0]?.message).toContain('--platform=$BUILDPLATFORM');
    expect(r.goCompileUnderEmulation).toBe(true);
    expect(platformsExecuted(r, ['linux/amd64', 'linux/arm64'], 'linux/amd64')).toEqual(['linux/amd64', 'linux/arm64']);
  });

  it('a build-platform stage must set GOOS/GOARCH from TARGETOS/TARGETARCH and declare them', () => {
    const r = analyseDockerfile(
      df(
        'FROM --platform=$BUILDPLATFORM golang:1.24', // 1
        'RUN CGO_ENABLED=0 go build -o /a ./cmd/a',
        'ARG TARGETOS',
        'RUN CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH go build -o /b ./cmd/b',
        'RUN CGO_ENABLED=0 GOOS=linux GOARCH=${TARGETARCH} go build -o /c ./cmd/c', // 5
        'FROM scratch',
        'COPY --from=0 /a /b /c /'
      ),
      {}
    );
    expect(codes(r)).toEqual([
      [2, 'goos-goarch-missing'],
      [4, 'goos-goarch-missing'],
      [5, 'goos-goarch-missing']
    ]);
    expect(r.findings[0]?.message).toContain('GOOS=$TARGETOS and GOARCH=$TARGETARCH');
    expect(r.findings[0]?.message).toContain('stage 0');
    expect(r.findings[1]?.message).toContain('$TARGETARCH');
    expect(r.findings[1]?.message).toContain('ARG TARGETARCH');
    expect(r.stages[1]?.copiesFrom).toEqual([0]);
    // Both problems on one RUN: two findings.
    const both = analyseDockerfile(df('FROM --platform=$BUILDPLATFORM golang AS b', 'RUN GOARCH=$TARGETARCH go build -o /a .'), {});
    expect(both.findings.map((f) => [f.line, f.code, f.message.includes('ARG TARGETARCH')])).toEqual([
      [2, 'goos-goarch-missing', false],
      [2, 'goos-goarch-missing', true]
    ]);
  });

  it('GOARM from TARGETVARIANT is required only when building for linux/arm', () => {
    const text = df(
      'FROM --platform=$BUILDPLATFORM golang:1.24 AS build', // 1
      'ARG TARGETOS TARGETARCH',
      'RUN CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH go build -o /app .',
      'FROM scratch',
      'COPY --from=build /app /app' // 5
    );
    expect(analyseDockerfile(text, { platforms: ['linux/amd64', 'linux/arm64'] }).findings).toEqual([]);
    const r = analyseDockerfile(text, { platforms: ['linux/amd64', 'linux/arm/v6'] });
    expect(codes(r)).toEqual([[3, 'goarm-missing']]);
    expect(r.findings[0]?.message).toContain('linux/arm/v6');
    expect(r.findings[0]?.message).toContain('GOARM=${TARGETVARIANT#v}');
    // GOARM from an undeclared TARGETVARIANT is empty: reported as undeclared.
    const undeclared = text.replace('GOARCH=$TARGETARCH go', 'GOARCH=$TARGETARCH GOARM=${TARGETVARIANT#v} go');
    expect(codes(analyseDockerfile(undeclared, { platforms: ['linux/arm/v7'] }))).toEqual([[3, 'goos-goarch-missing']]);
  });

  it('a scratch-like final stage needs CGO_ENABLED=0 in the stage it copies the binary from', () => {
    const text = (base: string, env = ''): string =>
      df(
        'FROM --platform=$BUILDPLATFORM golang:1.24 AS build', // 1
        'ARG TARGETOS TARGETARCH',
        env || '# no ENV',
        'RUN GOOS=$TARGETOS GOARCH=$TARGETARCH go build -o /app .',
        `FROM ${base} AS final`, // 5
        'COPY --from=build /app /app'
      );
    const r = analyseDockerfile(text('scratch'), {});
    expect(codes(r)).toEqual([[4, 'cgo-not-disabled']]);
    expect(r.findings[0]?.message).toContain('CGO_ENABLED=0');
    expect(r.findings[0]?.message).toContain('final stage "final"');
    expect(codes(analyseDockerfile(text('gcr.io/distroless/static:nonroot'), {}))).toEqual([[4, 'cgo-not-disabled']]);
    expect(codes(analyseDockerfile(text('cgr.dev/chainguard/static:latest'), {}))).toEqual([[4, 'cgo-not-disabled']]);
    expect(analyseDockerfile(text('alpine:3.20'), {}).findings).toEqual([]);
    expect(analyseDockerfile(text('scratch', 'ENV CGO_ENABLED=0'), {}).findings).toEqual([]);
    expect(analyseDockerfile(text('scratch', 'ENV CGO_ENABLED 0'), {}).findings).toEqual([]);
  });

  it('an alpine final stage with RUN apk runs emulated: a notice, and every target platform executes', () => {
    const r = analyseDockerfile(
      df(
        'FROM --platform=$BUILDPLATFORM golang:1.24-alpine AS build', // 1
        'ARG TARGETOS TARGETARCH',
        'RUN CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH go build -o /app .',
        'FROM alpine:3.20',
        'RUN apk add --no-cache ca-certificates tzdata', // 5
        'RUN adduser -D app',
        'COPY --from=build /app /usr/local/bin/app'
      ),
      {}
    );
    expect(r.findings).toEqual([
      {
        line: 5,
        severity: 'notice',
        code: 'final-stage-emulated',
        message: expect.stringContaining('stage 1 (FROM line 4) has 2 RUN step(s), the first at line 5')
      }
    ]);
    expect(r.goCompileUnderEmulation).toBe(false);
    expect(platformsExecuted(r, ['linux/amd64', 'linux/arm64', 'linux/arm/v7'], 'linux/amd64')).toEqual([
      'linux/amd64',
      'linux/arm64',
      'linux/arm/v7'
    ]);
    expect(platformsExecuted(r, ['linux/arm64', 'linux/arm/v7'], 'linux/amd64')).toEqual(['linux/arm64', 'linux/arm/v7', 'linux/amd64']);
  });

  it('lowercase keywords, go build in sh -c and heredoc bodies, a line after the heredoc', () => {
    const r = analyseDockerfile(
      df(
        '# syntax=docker/dockerfile:1', // 1
        'from golang:1.24 as build',
        'run sh -c "CGO_ENABLED=0 go build -o /a ./a"',
        'RUN <<-EOF',
        '\tset -e', // 5
        '\tgo install ./cmd/...',
        '\tEOF',
        'run echo after-heredoc',
        'from scratch',
        'copy --from=build /go/bin /bin' // 10
      ),
      {}
    );
    expect(codes(r)).toEqual([
      [3, 'go-under-qemu'],
      [4, 'cgo-not-disabled'],
      [4, 'go-under-qemu']
    ]);
    expect(r.stages[0]?.runs.map((x) => [x.line, x.command])).toEqual([
      [3, 'sh -c "CGO_ENABLED=0 go build -o /a ./a"'],
      [4, '<<-EOF\nset -e\ngo install ./cmd/...'],
      [8, 'echo after-heredoc']
    ]);
    expect(r.stages[1]).toMatchObject({ fromLine: 9, scratchLike: true, copiesFrom: [0] });
  });
});

describe('analyseDockerfile: stages, args and targets', () => {
  const PARAM = df(
    'ARG GO_VERSION=1.24', // 1
    'ARG BUILDER=golang:${GO_VERSION}-alpine',
    'ARG BASE',
    'ARG HOST=$BUILDPLATFORM',
    'FROM --platform=$HOST ${BUILDER} AS build', // 5
    'ARG TARGETOS TARGETARCH',
    'RUN GOOS=$TARGETOS GOARCH=$TARGETARCH \\',
    '    go build -o /app .',
    'FROM ${BASE:-scratch} AS final',
    'COPY --from=build /app /app' // 10
  );

  it('substitutes global ARGs in FROM and --platform, build args first', () => {
    const r = analyseDockerfile(PARAM, {});
    expect(r.stages[0]).toMatchObject({ from: '${BUILDER}', platformFlag: '$HOST', buildPlatform: true, fromLine: 5 });
    expect(r.stages[1]).toMatchObject({ from: '${BASE:-scratch}', scratchLike: true, fromLine: 9 });
    expect(codes(r)).toEqual([[7, 'cgo-not-disabled']]);

    const alpine = analyseDockerfile(PARAM, { buildArgs: { BASE: 'alpine:3.20' } });
    expect(alpine.stages[1]?.scratchLike).toBe(false);
    expect(alpine.findings).toEqual([]);
    // A build arg replaces the BUILDPLATFORM default: the build then compiles under QEMU.
    expect(codes(analyseDockerfile(PARAM, { buildArgs: { HOST: 'linux/amd64', BASE: 'alpine' } }))).toEqual([[7, 'go-under-qemu']]);
  });

  it('--target selects a middle stage: stages it does not need are neither used nor reported', () => {
    const text = df(
      'FROM --platform=$BUILDPLATFORM golang:1.24 AS build', // 1
      'ARG TARGETOS TARGETARCH',
      'RUN CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH go build -o /app .',
      'FROM scratch AS image',
      'COPY --from=build /app /app', // 5
      'FROM golang:1.24 AS debug',
      'RUN go install github.com/go-delve/delve/cmd/dlv@latest',
      'COPY --from=image /app /app'
    );
    const image = analyseDockerfile(text, { target: 'IMAGE' });
    expect(image.target).toBe(1);
    expect(image.used).toEqual([0, 1]);
    expect(image.findings).toEqual([]);
    expect(platformsExecuted(image, ['linux/amd64', 'linux/arm64'], 'linux/arm64')).toEqual(['linux/arm64']);

    const last = analyseDockerfile(text, {});
    expect(last.target).toBe(2);
    expect(last.used).toEqual([0, 1, 2]);
    expect(codes(last)).toEqual([
      [7, 'final-stage-emulated'],
      [7, 'go-under-qemu']
    ]);
    expect(() => analyseDockerfile(text, { target: 'release' })).toThrow(
      'Target stage "release" is not in the Dockerfile (named stages: "build", "image", "debug").'
    );
  });

  it('COPY --from by index and RUN --mount=from= make stages used; images are not stages', () => {
    const r = analyseDockerfile(
      df(
        'FROM --platform=$BUILDPLATFORM golang:1.24', // 1
        'FROM alpine AS unused',
        'RUN apk add git',
        'FROM node:22 AS web',
        'RUN npm ci', // 5
        'FROM scratch',
        'COPY --from=0 /usr/local/go/VERSION /',
        'COPY --from=docker.io/library/busybox:1.36 /bin/busybox /busybox',
        'COPY --from=Web /dist /www'
      ),
      {}
    );
    expect(r.used).toEqual([0, 2, 3]);
    expect(r.stages[3]?.copiesFrom).toEqual([0, 2]);
    expect(r.findings).toEqual([]);
    // node's RUN executes on every target platform; stage 0 runs nothing.
    expect(platformsExecuted(r, ['linux/amd64', 'linux/arm64'], 'linux/amd64')).toEqual(['linux/amd64', 'linux/arm64']);

    const mount = analyseDockerfile(
      df(
        'FROM --platform=$BUILDPLATFORM alpine AS assets', // 1
        'RUN echo hi > /x',
        'FROM alpine',
        'RUN --mount=type=bind,from=assets,source=/x,target=/x cat /x'
      ),
      {}
    );
    expect(mount.stages[1]?.copiesFrom).toEqual([0]);
    expect(mount.used).toEqual([0, 1]);
    expect(codes(mount)).toEqual([[4, 'final-stage-emulated']]);
    expect(platformsExecuted(mount, ['linux/arm64'], 'linux/amd64')).toEqual(['linux/arm64', 'linux/amd64']);
  });

  it('scratch with only COPY executes nothing; a fixed --platform executes on that platform', () => {
    const scratch = analyseDockerfile(df('FROM scratch', 'COPY app /app', 'ENTRYPOINT ["/app"]'), {});
    expect(scratch.findings).toEqual([]);
    expect(platformsExecuted(scratch, ['linux/amd64', 'linux/arm64'], 'linux/amd64')).toEqual([]);

    const fixed = analyseDockerfile(
      df('FROM --platform=linux/amd64 alpine AS fetch', 'RUN wget -O /x https://example.com/x', 'FROM scratch', 'COPY --from=fetch /x /x'),
      {}
    );
    expect(platformsExecuted(fixed, ['linux/arm64'], 'linux/arm64')).toEqual(['linux/amd64']);
  });
});

describe('cacheMounts', () => {
  it('extracts cache mounts of used stages, id defaulting to the target, de-duplicated by id', () => {
    const r = analyseDockerfile(
      df(
        'FROM --platform=$BUILDPLATFORM golang:1.24 AS deps', // 1
        'RUN --mount=type=cache,target=/go/pkg/mod,sharing=locked \\',
        '    --mount=type=bind,source=go.mod,target=go.mod \\',
        '    go mod download',
        'FROM deps AS build', // 5
        'ARG TARGETOS TARGETARCH',
        'RUN --mount=type=cache,target=/go/pkg/mod,sharing=locked --mount=type=cache,id=gobuild-${TARGETARCH},dst=/root/.cache/go-build,uid=0,gid=0,mode=0755 \\',
        '    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH go build -o /app .',
        'FROM alpine AS other',
        'RUN --mount=type=cache,target=/var/cache/apk apk add git', // 10
        'FROM scratch',
        'COPY --from=build /app /app'
      ),
      {}
    );
    expect(r.used).toEqual([0, 1, 3]);
    expect(r.findings).toEqual([]);
    expect(r.stages[0]?.runs[0]?.mounts).toEqual([{ line: 2, target: '/go/pkg/mod', id: '/go/pkg/mod', sharing: 'locked' }]);
    expect(r.cacheMounts).toEqual([
      { line: 2, target: '/go/pkg/mod', id: '/go/pkg/mod', sharing: 'locked' },
      { line: 7, target: '/root/.cache/go-build', id: 'gobuild-${TARGETARCH}', uid: '0', gid: '0', mode: '0755' }
    ]);
    expect(r.stages[2]?.runs[0]?.mounts).toEqual([{ line: 10, target: '/var/cache/apk', id: '/var/cache/apk' }]);
  });
});
