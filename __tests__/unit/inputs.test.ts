import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { checkImageFiles } from '../../src/inputs/files.js';
import { parseImages } from '../../src/inputs/images.js';
import { InputError, readInputs } from '../../src/inputs/index.js';
import { parseSmoke, splitArgs } from '../../src/inputs/smoke.js';
import { parseKeyValueLines } from '../../src/inputs/values.js';

const getter =
  (m: Record<string, string>) =>
  (name: string): string =>
    m[name] ?? '';

describe('readInputs', () => {
  it('fills in the documented defaults', () => {
    const i = readInputs(getter({ images: 'name: org/app' }));
    expect(i).toEqual({
      images: [
        {
          names: ['org/app'],
          dockerfile: 'Dockerfile',
          context: '.',
          buildArgs: {},
          labels: {},
          smoke: { enabled: true, args: [], env: {}, timeoutSeconds: 60, wait: { kind: 'up', seconds: 5 } }
        }
      ],
      platforms: ['linux/amd64', 'linux/arm64'],
      version: undefined,
      latest: 'auto',
      semverTags: false,
      registries: [],
      push: 'auto',
      cache: 'gha',
      qemu: 'auto',
      builder: 'auto',
      buildArgs: {},
      smokePlatforms: 'native',
      dryRun: false,
      goCache: 'auto',
      builderEndpoints: [],
      mode: 'publish',
      sign: { mode: 'false' },
      attest: { smoke: false, github: false, token: '' },
      provenance: 'min',
      sbom: false,
      buildSecrets: { secrets: [], envs: [], files: [], ssh: [] }
    });
  });

  it('reads every input', () => {
    const i = readInputs(
      getter({
        images:
          '- name: org/app\n  platforms: linux/arm/v7, linux/riscv64\n  target: final\n  cache-scope: app\n  build-args: {A: 1}\n  labels: {x: y}',
        platforms: 'linux/amd64',
        version: 'v1.0.0',
        latest: 'false',
        'semver-tags': 'true',
        registry: 'ghcr.io',
        username: 'me',
        password: 'pw',
        registries: '- {registry: docker.io, username: u2, password: p2}',
        push: 'TRUE',
        cache: 'registry',
        qemu: 'false',
        builder: 'docker-container',
        'build-args': 'GOPROXY=https://proxy.example\n# comment\nREGISTRY_MIRROR=mirror.example',
        'smoke-platforms': 'all',
        'dry-run': 'true'
      })
    );
    expect(i.images[0]).toMatchObject({
      platforms: ['linux/arm/v7', 'linux/riscv64'],
      target: 'final',
      cacheScope: 'app',
      buildArgs: { A: '1' },
      labels: { x: 'y' }
    });
    expect(i.registries).toEqual([
      { registry: 'ghcr.io', username: 'me', password: 'pw' },
      { registry: 'docker.io', username: 'u2', password: 'p2' }
    ]);
    expect(i.buildArgs).toEqual({ GOPROXY: 'https://proxy.example', REGISTRY_MIRROR: 'mirror.example' });
    expect([i.version, i.latest, i.semverTags, i.push, i.cache, i.qemu, i.builder, i.smokePlatforms, i.dryRun]).toEqual([
      'v1.0.0',
      'false',
      true,
      'true',
      'registry',
      'false',
      'docker-container',
      'all',
      true
    ]);
  });

  it('reads builder-endpoints as a list of {endpoint, platforms}', () => {
    const i = readInputs(
      getter({
        images: 'name: a',
        'builder-endpoints':
          '- endpoint: ssh://builder@arm-host:2222\n  platforms: [linux/arm64, linux/arm/v7]\n- {endpoint: "tcp://10.0.0.5:2375", platforms: linux/riscv64}'
      })
    );
    expect(i.builderEndpoints).toEqual([
      { endpoint: 'ssh://builder@arm-host:2222', platforms: ['linux/arm64', 'linux/arm/v7'] },
      { endpoint: 'tcp://10.0.0.5:2375', platforms: ['linux/riscv64'] }
    ]);
    expect(readInputs(getter({ images: 'name: a', 'go-cache': 'false' })).goCache).toBe('false');
  });

  it('passes a white-space version on for the tag rules to reject', () => {
    expect(readInputs(getter({ images: 'name: a/b', version: '  ' })).version).toBe('  ');
  });

  it.each([
    ['images', { images: '' }, /Input "images": "" is not valid\. Expected a YAML list of images/],
    ['images', { images: '- name: [x' }, /Input "images".*YAML error/],
    ['images', { images: '42' }, /Input "images": "42"/],
    ['images', { images: '- name: a/b\n- name: a/b' }, /Input "images\[1\]\.name": "a\/b".*images\[0\] has it/],
    ['images', { images: '- name: a/b\n  dockerfle: x' }, /Input "images\[0\]\.dockerfle".*one of the keys/],
    ['images', { images: '- name: a/b\n  names: [c/d]' }, /either "name" or "names"/],
    ['images', { images: '- names: []' }, /Input "images\[0\]\.names"/],
    ['platforms', { images: 'name: a', platforms: 'linux/amd64,windows/amd64' }, /Input "platforms": "windows\/amd64"/],
    ['images', { images: 'name: a\nplatforms: linux/sparc' }, /Input "images\[0\]\.platforms": "linux\/sparc"/],
    ['push', { images: 'name: a', push: 'maybe' }, /Input "push": "maybe".*"auto" \| "true" \| "false"/],
    ['dry-run', { images: 'name: a', 'dry-run': 'yes' }, /Input "dry-run": "yes".*"true" or "false"/],
    ['cache', { images: 'name: a', cache: 's3' }, /Input "cache": "s3"/],
    ['username', { images: 'name: a', password: 'secret' }, /Input "username"/],
    ['password', { images: 'name: a', username: 'me' }, /Input "password".*"me"/],
    ['registries', { images: 'name: a', registries: '- {registry: ghcr.io, password: pw}' }, /Input "registries\[0\]\.username"/],
    [
      'registries',
      { images: 'name: a', registries: '- {registry: ghcr.io, username: u, password: p}\n- {registry: ghcr.io, username: v, password: q}' },
      /each registry once/
    ],
    ['build-args', { images: 'name: a', 'build-args': 'NOEQUALS' }, /Input "build-args": "NOEQUALS".*KEY=VALUE/],
    ['go-cache', { images: 'name: a', 'go-cache': 'yes' }, /Input "go-cache": "yes".*"auto" \| "false"/],
    ['builder-endpoints', { images: 'name: a', 'builder-endpoints': '- endpoint: [' }, /Input "builder-endpoints".*YAML error/],
    [
      'builder-endpoints',
      { images: 'name: a', 'builder-endpoints': '- endpoint: -H=evil\n  platforms: linux/arm64' },
      /Input "builder-endpoints\[0\]\.endpoint": "-H=evil".*ssh:\/\/user@host/
    ],
    [
      'builder-endpoints',
      { images: 'name: a', 'builder-endpoints': '- endpoint: ssh://b@h\n  platforms: linux/sparc' },
      /Input "builder-endpoints\[0\]\.platforms": "linux\/sparc"/
    ],
    [
      'builder-endpoints',
      {
        images: 'name: a',
        'builder-endpoints': '- {endpoint: "ssh://b@h", platforms: linux/arm64}\n- {endpoint: "ssh://c@h", platforms: linux/arm64}'
      },
      /builder-endpoints\[1\]\.platforms": "linux\/arm64".*builder-endpoints\[0\] has it/
    ]
  ])('rejects bad %s input with a message naming it', (_input, m, msg) => {
    expect(() => readInputs(getter(m))).toThrow(InputError);
    expect(() => readInputs(getter(m))).toThrow(msg);
  });

  it('never puts a registries password in an error', () => {
    try {
      readInputs(getter({ images: 'name: a', registries: '- {registry: ghcr.io, password: topsecret, bad: [' }));
      throw new Error('no error');
    } catch (e) {
      expect((e as Error).message).toMatch(/Input "registries"/);
      expect((e as Error).message).not.toContain('topsecret');
    }
  });
});

describe('parseSmoke', () => {
  const exit = { kind: 'exit' };
  const up = (seconds: number) => ({ kind: 'up', seconds });
  it.each([
    // No smoke key: the image's own command, which may be a server.
    [undefined, { enabled: true, args: [], env: {}, timeoutSeconds: 60, wait: up(5) }],
    [false, { enabled: false }],
    // A command the user gives must exit 0.
    ['ls -la "/usr/local/bin/a b"', { enabled: true, args: ['ls', '-la', '/usr/local/bin/a b'], env: {}, timeoutSeconds: 60, wait: exit }],
    [['--version', 1], { enabled: true, args: ['--version', '1'], env: {}, timeoutSeconds: 60, wait: exit }],
    [
      { args: '--check', entrypoint: '/bin/sh', env: { A: 1 }, expect: '^ok$', 'timeout-seconds': 5 },
      { enabled: true, args: ['--check'], entrypoint: '/bin/sh', env: { A: '1' }, expect: '^ok$', timeoutSeconds: 5, wait: exit }
    ],
    [{ entrypoint: '/bin/true' }, { enabled: true, args: [], entrypoint: '/bin/true', env: {}, timeoutSeconds: 60, wait: exit }],
    // A map with no command: the image's own command again; a short timeout halves up-seconds.
    [{ env: { PORT: 8080 } }, { enabled: true, args: [], env: { PORT: '8080' }, timeoutSeconds: 60, wait: up(5) }],
    [{ 'timeout-seconds': 4 }, { enabled: true, args: [], env: {}, timeoutSeconds: 4, wait: up(2) }],
    // up-seconds turns a given command into a server too.
    [
      { args: ['--listen=:8080'], 'up-seconds': 2 },
      { enabled: true, args: ['--listen=:8080'], env: {}, timeoutSeconds: 60, wait: up(2) }
    ],
    [{ http: 8080 }, { enabled: true, args: [], env: {}, timeoutSeconds: 60, wait: { kind: 'http', port: 8080, path: '/', status: 200 } }],
    [
      { args: '--listen=:9000', http: { port: '9000', path: '/healthz', status: 204 }, expect: 'listening', 'timeout-seconds': 20 },
      {
        enabled: true,
        args: ['--listen=:9000'],
        env: {},
        expect: 'listening',
        timeoutSeconds: 20,
        wait: { kind: 'http', port: 9000, path: '/healthz', status: 204 }
      }
    ]
  ])('%j', (input, spec) => {
    expect(parseSmoke('images[0].smoke', input)).toEqual(spec);
  });

  it.each([
    [{ 'timeout-seconds': 0 }, /timeout-seconds": "0".*positive number/],
    [{ 'timeout-seconds': 'soon' }, /timeout-seconds": "soon"/],
    [{ expect: '(' }, /expect": "\(".*regular expression/],
    [{ command: 'x' }, /smoke\.command/],
    ['echo "unbalanced', /balanced quotes/],
    [{ 'up-seconds': -1 }, /smoke\.up-seconds": "-1".*positive number/],
    [{ 'up-seconds': 30, 'timeout-seconds': 30 }, /smoke\.up-seconds": "30".*fewer seconds than timeout-seconds \(30\)/],
    [{ 'up-seconds': 3, http: 80 }, /smoke\.up-seconds".*nothing beside images\[0\]\.smoke\.http/],
    [{ http: 'eighty' }, /smoke\.http\.port": "eighty".*container port to probe, a whole number from 1 to 65535/],
    [{ http: { port: 70000 } }, /smoke\.http\.port": "70000"/],
    [{ http: { port: 8.5 } }, /smoke\.http\.port": "8\.5"/],
    [{ http: { port: 80, path: 'healthz' } }, /smoke\.http\.path": "healthz".*starting with "\/"/],
    [{ http: { port: 80, status: 'ok' } }, /smoke\.http\.status": "ok".*HTTP status code/],
    [{ http: { port: 80, host: 'x' } }, /smoke\.http\.host".*one of the keys port, path, status/]
  ])('rejects %j', (input, msg) => {
    expect(() => parseSmoke('images[0].smoke', input)).toThrow(msg);
  });
});

describe('helpers', () => {
  it('splits like a shell without running one', () => {
    expect(splitArgs('x', `a 'b c' "d \\"e\\"" f\\ g $(id) ''`)).toEqual(['a', 'b c', 'd "e"', 'f g', '$(id)', '']);
  });
  it('reads KEY=VALUE lines, values may hold =', () => {
    expect(parseKeyValueLines('build-args', ' A=b=c \n\nB=')).toEqual({ A: 'b=c', B: '' });
  });
  it('accepts a single map as images', () => {
    expect(parseImages('name: org/app').map((i) => i.names)).toEqual([['org/app']]);
  });
});

describe('checkImageFiles', () => {
  const ws = mkdtempSync(join(tmpdir(), 'gdp-ws-'));
  mkdirSync(join(ws, 'svc'));
  writeFileSync(join(ws, 'Dockerfile'), 'FROM scratch\n');
  writeFileSync(join(ws, 'svc', 'Dockerfile'), 'FROM scratch\n');
  const one = (yaml: string) => parseImages(yaml);

  it('defaults the Dockerfile to <context>/Dockerfile, as docker/build-push-action does', () => {
    expect(one('- {name: a/b, context: svc}')[0]?.dockerfile).toBe('svc/Dockerfile');
    expect(one('- {name: a/b}')[0]?.dockerfile).toBe('Dockerfile');
    expect(() => checkImageFiles(one('- {name: a/b, context: svc}\n- {name: a/c}'), ws)).not.toThrow();
  });
  it.each([
    ['- {name: a/b, dockerfile: Nope}', /Input "images\[0\]\.dockerfile": "Nope".*an existing file/],
    [
      '- {name: a/b, context: svc, dockerfile: Dockerfile}',
      /Input "images\[0\]\.dockerfile": "Dockerfile".*inside the build context "svc"/
    ],
    ['- {name: a/b, context: svc, dockerfile: svc/../../etc/passwd}', /inside the build context/],
    ['- {name: a/b, context: missing}', /Input "images\[0\]\.context": "missing".*a directory in the workspace/]
  ])('%s', (yaml, msg) => {
    expect(() => checkImageFiles(one(yaml), ws)).toThrow(msg);
  });
});
