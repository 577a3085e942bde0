// Build secrets and private Go modules (pure parts and the argv): the inputs, what every build
// gets (secrets by variable or file, never a value in an argument or a build arg), the netrc for
// the module hosts, the masks, and the Dockerfile check's findings.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, jest } from '@jest/globals';
import { resolveSecretSources } from '../../src/inputs/files.js';
import { readInputs } from '../../src/inputs/index.js';
import { partArgs } from '../../src/plan/commands/build.js';
import { checkDockerfile } from '../../src/plan/check.js';
import { buildPlan } from '../../src/plan/plan.js';
import { maskSecretFiles, maskSecrets } from '../../src/run/masks.js';
import { runPipeline } from '../../src/run/pipeline.js';
import { pushingEngine } from '../support/fake-engine.js';
import { FakeRunner } from '../support/fake-runner.js';
import { ctxFor } from '../support/plan-inputs.js';

const get = (values: Record<string, string>) => (name: string) => values[name] ?? (name === 'images' ? '- name: ghcr.io/o/a' : '');
const planOf = (values: Record<string, string>) => buildPlan(readInputs(get(values)), ctxFor('release-published'), 'amd64');

describe('build secret inputs', () => {
  it('reads secrets, secret-envs, secret-files and ssh', () => {
    const i = readInputs(
      get({
        secrets: 'build-token=gdp-secret-1=2\n# a comment\nnpmrc=//registry.npmjs.org/:_authToken=x',
        'secret-envs': 'aws=AWS_SECRET_ACCESS_KEY',
        'secret-files': 'gdp-ca=certs/ca.pem',
        ssh: 'default\ngithub=/home/runner/.ssh/id_ed25519'
      })
    );
    expect(i.buildSecrets).toEqual({
      secrets: [
        { id: 'build-token', value: 'gdp-secret-1=2' },
        { id: 'npmrc', value: '//registry.npmjs.org/:_authToken=x' }
      ],
      envs: [{ id: 'aws', env: 'AWS_SECRET_ACCESS_KEY' }],
      files: [{ id: 'gdp-ca', path: 'certs/ca.pem' }],
      ssh: ['default', 'github=/home/runner/.ssh/id_ed25519']
    });
  });

  it.each([
    [{ secrets: 'no-equals-sign-value' }, /Input "secrets": "\(no id\)=\(not shown\)" is not valid/],
    [{ secrets: 'x=hunter2-not-shown\nx=again' }, /Input "secrets": "x".*each secret id once/],
    [{ 'secret-envs': 'a=not a name' }, /Input "secret-envs": "a=not a name"/],
    [{ ssh: '--flag' }, /Input "ssh": "--flag"/],
    [{ 'go-private-token': 'tok-not-shown' }, /Input "go-private-token": "\(not shown\)".*unless go-private/],
    [
      { 'go-private': 'gdp.example/acme/*', 'go-private-proxy': 'http://proxy:8080' },
      /Input "go-private-proxy": "http:\/\/proxy:8080".*https:\/\//
    ],
    [{ 'go-private': 'a b' }, /Input "go-private": "a b"/]
  ])('%j fails naming the input, never showing a value', (values, message) => {
    expect(() => readInputs(get(values))).toThrow(message);
    try {
      readInputs(get(values));
    } catch (e) {
      expect((e as Error).message).not.toMatch(/hunter2|tok-not-shown/);
    }
  });

  it('a secret-envs variable must be set and a secret-files path must be a file, before anything runs', () => {
    const ws = mkdtempSync(join(tmpdir(), 'gdp-ws-'));
    writeFileSync(join(ws, 'ca.pem'), 'x');
    const s = { secrets: [], envs: [{ id: 'a', env: 'GDP_UNSET_VAR' }], files: [{ id: 'ca', path: 'ca.pem' }], ssh: [] };
    expect(() => resolveSecretSources(s, {}, ws)).toThrow(/Input "secret-envs": "a=GDP_UNSET_VAR".*GDP_UNSET_VAR is not set/);
    expect(resolveSecretSources(s, { GDP_UNSET_VAR: 'v' }, ws).files).toEqual([{ id: 'ca', path: join(ws, 'ca.pem') }]);
    expect(() => resolveSecretSources({ ...s, envs: [], files: [{ id: 'ca', path: 'nope.pem' }] }, {}, ws)).toThrow(
      /Input "secret-files": "ca=nope\.pem".*an existing file/
    );
  });
});

describe('what every build gets', () => {
  const plan = planOf({
    secrets: 'build-token=gdp-secret-value-1',
    'secret-envs': 'aws=AWS_SECRET',
    'secret-files': 'gdp-ca=/etc/ca.pem',
    ssh: 'default',
    'go-private': 'gdp.example/acme/*,*.corp.example.com',
    'go-private-token': 'tok-123',
    'go-private-proxy': 'https://127.0.0.1:8443',
    'build-args': 'GOPROXY=https://goproxy.example'
  });
  const img = plan.images[0]!;

  it('secrets by variable or file and --ssh in every build; no value in any argument', () => {
    for (const output of [
      { type: 'cacheonly' as const },
      { type: 'load' as const, name: 'a:1', rewriteTimestamp: false },
      {
        type: 'push-by-digest' as const,
        repository: 'ghcr.io/o/a',
        rewriteTimestamp: false,
        attestations: { provenance: 'max' as const, sbom: false }
      }
    ]) {
      const args = partArgs(plan, img, { platforms: ['linux/amd64'] }, 'b', output, '/m', false);
      expect(args.filter((a) => a.startsWith('--secret=') || a.startsWith('--ssh='))).toEqual([
        '--secret=id=build-token,env=GDP_SECRET_0',
        '--secret=id=aws,env=AWS_SECRET',
        '--secret=id=gdp-ca,src=/etc/ca.pem',
        '--secret=id=netrc,env=GDP_SECRET_NETRC',
        '--ssh=default'
      ]);
      expect(args.join(' ')).not.toMatch(/gdp-secret-value-1|tok-123/);
    }
    expect(plan.secretEnv).toEqual({
      GDP_SECRET_0: 'gdp-secret-value-1',
      GDP_SECRET_NETRC:
        'machine 127.0.0.1:8443 login x-access-token password tok-123\nmachine gdp.example login x-access-token password tok-123\n'
    });
  });

  it('go-private: GOPRIVATE, GONOSUMDB; with a proxy GOPROXY (the private one first, then the workflow’s) and GONOPROXY=none', () => {
    expect(img.buildArgs).toMatchObject({
      GOPRIVATE: 'gdp.example/acme/*,*.corp.example.com',
      GONOSUMDB: 'gdp.example/acme/*,*.corp.example.com',
      GOPROXY: 'https://127.0.0.1:8443,https://goproxy.example',
      GONOPROXY: 'none'
    });
    expect(Object.values(img.buildArgs).join(' ')).not.toContain('tok-123');
    const noProxy = planOf({ 'go-private': 'github.com/acme/*', 'go-private-token': 't', 'go-private-username': 'me' });
    expect(noProxy.images[0]?.buildArgs.GOPROXY).toBeUndefined();
    expect(noProxy.secretEnv.GDP_SECRET_NETRC).toBe('machine github.com login me password t\n');
  });

  it('a secret of its own named netrc beside go-private-token is refused, naming its input', () => {
    expect(() => planOf({ 'secret-files': 'netrc=/x', 'go-private': 'a.example/b', 'go-private-token': 't' })).toThrow(
      /Input "secret-files": the secret id "netrc" is not valid with go-private-token/
    );
  });

  it('masks every secret value, each line of a multi-line one, and the token', () => {
    // core.setSecret writes ::add-mask::<value> to stdout (a multi-line value is escaped as %0A).
    let out = '';
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((out += String(chunk)), true));
    const inputs = readInputs(
      get({ secrets: 'a=one-value', 'secret-envs': 'b=MULTI', 'go-private': 'x.example/y', 'go-private-token': 'tok-9' })
    );
    maskSecrets(inputs, { MULTI: 'first-line\nsecond-line' });
    spy.mockRestore();
    const masked = out
      .split('\n')
      .filter((l) => l.startsWith('::add-mask::'))
      .map((l) => l.slice('::add-mask::'.length));
    expect(masked).toEqual(expect.arrayContaining(['one-value', 'first-line%0Asecond-line', 'first-line', 'second-line', 'tok-9']));
  });
  it('masks what a secret-files file holds (each line of it too) and each line of an ssh key file, not the armor lines', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gdp-unit-'));
    writeFileSync(join(dir, 'token.txt'), 'file-secret-1\n');
    writeFileSync(join(dir, 'ca.pem'), '-----BEGIN CERTIFICATE-----\nMIIBcert-line-one\nMIIBcert-line-two\n-----END CERTIFICATE-----\n');
    writeFileSync(
      join(dir, 'id_ed25519'),
      '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\nQyNTUxOQAAACB\n-----END OPENSSH PRIVATE KEY-----\n'
    );
    writeFileSync(join(dir, 'binary'), Buffer.from([0x41, 0x00, 0x42, 0x43, 0x44]));
    let out = '';
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((out += String(chunk)), true));
    const inputs = readInputs(
      get({ 'secret-files': 'tok=token.txt\nca=ca.pem\nbin=binary', ssh: `default\ngithub=${join(dir, 'id_ed25519')}` })
    );
    maskSecretFiles(inputs.buildSecrets, dir);
    spy.mockRestore();
    const masked = out
      .split('\n')
      .filter((l) => l.startsWith('::add-mask::'))
      .map((l) => l.slice('::add-mask::'.length));
    expect(masked).toEqual(
      expect.arrayContaining(['file-secret-1', 'MIIBcert-line-one', 'MIIBcert-line-two', 'b3BlbnNzaC1rZXktdjEAAAAA', 'QyNTUxOQAAACB'])
    );
    expect(masked.filter((m) => m.includes('-----BEGIN OPENSSH') || m === '-----END CERTIFICATE-----')).toEqual([]);
    // A file that is not text is not read into a mask.
    expect(masked.some((m) => m.includes('BCD'))).toBe(false);
  });
});

describe('the Dockerfile check with go-private', () => {
  const dockerfile = (mount: string, args: string) =>
    [
      'FROM --platform=$BUILDPLATFORM golang:1.24 AS build',
      args,
      'ARG TARGETOS TARGETARCH',
      'COPY . .',
      `RUN ${mount}go mod download`,
      'RUN --mount=type=cache,target=/root/.cache/go-build CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH go build -o /app .',
      'FROM scratch',
      'COPY --from=build /app /app'
    ].join('\n');
  const check = (text: string, hosts: string[], proxy = true) =>
    checkDockerfile(planOf({}).images[0]!, text, 'linux/amd64', [], { patterns: ['gdp.example/*'], hosts, proxy }).findings.map((f) => [
      f.line,
      f.code
    ]);

  it('asks for the netrc mount and the ARGs on the first RUN that fetches modules', () => {
    expect(check(dockerfile('', 'ARG VERSION'), ['gdp.example'])).toEqual([
      [5, 'go-private-args-missing'],
      [5, 'netrc-mount-missing']
    ]);
    const f = checkDockerfile(planOf({}).images[0]!, dockerfile('', 'ARG GOPRIVATE GONOSUMDB GONOPROXY GOPROXY'), 'linux/amd64', [], {
      patterns: [],
      hosts: ['127.0.0.1:8443'],
      proxy: true
    }).findings[0];
    expect(f?.message).toContain('add --mount=type=secret,id=netrc,target=/root/.netrc to that RUN');
    expect(f?.message).toContain('127.0.0.1:8443');
  });

  it('is satisfied by a mount at or before the fetch, and by the ARGs it needs', () => {
    expect(
      check(dockerfile('--mount=type=secret,id=netrc,target=/root/.netrc ', 'ARG GOPRIVATE GONOSUMDB GONOPROXY GOPROXY'), ['h'])
    ).toEqual([]);
    // Without a proxy only GOPRIVATE and GONOSUMDB matter; without a token, no netrc is made.
    expect(check(dockerfile('', 'ARG GOPRIVATE GONOSUMDB'), [], false)).toEqual([]);
  });
});

describe('a Go module fetch that failed', () => {
  // As Go 1.27 printed it in a BuildKit v0.32 build against the test proxy without the netrc secret.
  const noNetrc = [
    '#12 0.061 # get https://127.0.0.1:39145/gdp.example/acme/greet/@v/v1.2.0.mod: 401 Unauthorized (0.006s)',
    '#12 0.061 go: gdp.example/acme/greet@v1.2.0: reading https://127.0.0.1:39145/gdp.example/acme/greet/@v/v1.2.0.mod: 401 Unauthorized',
    '#12 0.061 \tserver response: unauthorized: the gdp test module proxy needs basic auth (none given)',
    'ERROR: failed to build: failed to solve: process "/bin/sh -c SSL_CERT_FILE=/etc/ssl/certs/gdp-test-ca.pem go mod download -x" did not complete successfully: exit code: 1'
  ].join('\n');
  it('names the module and the answer, and is not taken for a registry refusal', async () => {
    const { goFetchFailure, goFetchFailureMessage } = await import('../../src/plan/go-fetch-failure.js');
    const { authFailure } = await import('../../src/plan/auth-failure.js');
    const f = goFetchFailure(noNetrc);
    expect(f).toEqual({
      module: 'gdp.example/acme/greet',
      what: '401 Unauthorized from https://127.0.0.1:39145/gdp.example/acme/greet/@v/v1.2.0.mod'
    });
    expect(authFailure(noNetrc)).toBeUndefined();
    expect(goFetchFailureMessage(f!, 'x for linux/amd64', false)).toMatch(/needs go-private \(its pattern\) and go-private-token/);
    expect(
      goFetchFailure(
        "go: github.com/acme/lib@v1.0.0: invalid version: git ls-remote -q origin in /go/pkg/mod/cache/vcs/x: exit status 128:\n\tfatal: could not read Username for 'https://github.com': terminal prompts disabled"
      )
    ).toEqual({ module: 'github.com/acme/lib', what: 'git asked for credentials (terminal prompts disabled)' });
    expect(goFetchFailure('go: build failed: syntax error')).toBeUndefined();
  });
});

describe('build secrets through a whole run (a fake runner records every command and its environment)', () => {
  it('no argument of any command holds a secret value, the go-private token or a registry password; every build gets the secrets by its environment', async () => {
    const values = { secret: 'gdp-secret-unit-1', token: 'gdp-token-unit-2', password: 'registry-pass-3' };
    const plan = planOf({
      images: '- name: ghcr.io/example/tunnel\n  smoke: ["--version"]',
      platforms: 'linux/amd64,linux/arm64',
      secrets: `build-token=${values.secret}`,
      'secret-files': 'gdp-ca=certs/ca.pem',
      ssh: 'default',
      'go-private': 'gdp.example/*',
      'go-private-token': values.token,
      registries: `- {registry: ghcr.io, username: bot, password: ${values.password}}`,
      cache: 'none',
      'go-cache': 'false',
      qemu: 'false'
    });
    const runner = new FakeRunner(pushingEngine());
    const res = await runPipeline(
      plan,
      runner,
      { loggedIn: () => undefined, builderCreated: () => undefined },
      {
        runId: '42-1',
        ghaCache: { reason: 'none here' },
        tempDir: mkdtempSync(join(tmpdir(), 'gdp-unit-')),
        smokeProbe: {
          now: (() =>
            (
              (t) => () =>
                (t += 1000)
            )(0))(),
          sleep: async () => undefined,
          httpStatus: async () => 200
        }
      }
    );
    expect(res.error).toBeUndefined();
    const builds = runner.calls.map((c, i) => ({ c, env: runner.envs[i] ?? {} })).filter(({ c }) => c[0] === 'buildx' && c[1] === 'build');
    // The load of the tested platform, the other platform beside it, the whole image into the cache, the push by digest.
    expect(builds.length).toBeGreaterThanOrEqual(3);
    expect(builds.some(({ c }) => c.some((a) => a.includes('push-by-digest=true')))).toBe(true);
    for (const { c, env } of builds) {
      expect(c).toEqual(
        expect.arrayContaining([
          '--secret=id=build-token,env=GDP_SECRET_0',
          '--secret=id=gdp-ca,src=certs/ca.pem',
          '--secret=id=netrc,env=GDP_SECRET_NETRC',
          '--ssh=default'
        ])
      );
      expect(env.GDP_SECRET_0).toBe(values.secret);
      expect(env.GDP_SECRET_NETRC).toContain(`password ${values.token}`);
    }
    const argvHolding = runner.calls.filter((c) => c.some((a) => Object.values(values).some((v) => a.includes(v))));
    expect(argvHolding).toEqual([]);
    // Nothing but the builds is given a secret.
    expect(runner.envs.filter((e, i) => Object.keys(e).length > 0 && runner.calls[i]?.[1] !== 'build')).toEqual([]);
  });
});
