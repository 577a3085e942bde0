// The action's interface, run from dist/ like a runner runs it: dry run, and bad input that runs nothing.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { LOCAL_BASE_ARGS, runAction, trapDockerPath, type ActionRun } from './harness.js';

const IMAGES = `
- name: ghcr.io/Example/tunnel
  dockerfile: Dockerfile
  smoke: ["--version"]
- names: [docker.io/example/tunnel-web, ghcr.io/example/tunnel-web]
  dockerfile: Dockerfile.web
  platforms: [linux/amd64, linux/arm64, linux/riscv64]
`;

/** A release run of dist/ with a `docker` on PATH that records any call: `dockerRan` lists them. */
async function releaseRun(inputs: Record<string, string>): Promise<ActionRun & { dockerRan: string }> {
  const trap = trapDockerPath();
  const run = await runAction({
    inputs,
    event: 'release-published.json',
    eventName: 'release',
    ref: 'refs/tags/v2.3.1',
    env: { PATH: trap.path }
  });
  return { ...run, dockerRan: existsSync(trap.marker) ? readFileSync(trap.marker, 'utf8') : '' };
}

describe('dist/ as a runner runs it', () => {
  it('dry-run runs the pipeline with a recording runner: it prints the plan and every command, sets the outputs, and runs only read-only docker commands', async () => {
    const run = await releaseRun({
      images: IMAGES,
      'dry-run': 'true',
      'build-args': LOCAL_BASE_ARGS,
      username: 'bot',
      password: 's3cret-value'
    });
    expect(run.status).toBe(0);
    // What ran for real: the current builder's inspect, then which version each floating tag
    // holds (three repositories, each with latest); the trap fails them, and the dry run says it
    // did not look. Nothing else reached docker. The floating tags are read at once, in any order.
    const [inspect, ...reads] = run.dockerRan.split('\n').filter(Boolean);
    expect([inspect, ...reads.sort()]).toEqual([
      'buildx inspect',
      ...['ghcr.io/example/tunnel', 'docker.io/example/tunnel-web', 'ghcr.io/example/tunnel-web']
        .map((r) => `buildx imagetools inspect ${r}:latest --format={{json .Image}}`)
        .sort()
    ]);
    expect(run.stdout).toContain('Dry run: did not look which version ghcr.io/example/tunnel:latest holds');
    expect(run.outputs.version).toBe('v2.3.1');
    expect(run.outputs.tags?.split('\n')).toEqual([
      'ghcr.io/example/tunnel:v2.3.1',
      'ghcr.io/example/tunnel:latest',
      'docker.io/example/tunnel-web:v2.3.1',
      'docker.io/example/tunnel-web:latest',
      'ghcr.io/example/tunnel-web:v2.3.1',
      'ghcr.io/example/tunnel-web:latest'
    ]);
    expect(run.outputs.pushed).toBe('false');
    const images = JSON.parse(run.outputs.images ?? '[]') as { name: string; platforms: string[]; smoke: string }[];
    expect(images.map((i) => [i.name, i.platforms])).toEqual([
      ['ghcr.io/example/tunnel', ['linux/amd64', 'linux/arm64']],
      ['docker.io/example/tunnel-web', ['linux/amd64', 'linux/arm64', 'linux/riscv64']]
    ]);
    // The plan: every docker command in the order the pipeline runs them, the labels and build
    // args, and the lowercasing notice. No cache service here: the builds say so and use none.
    const commands = run.stdout.split('\n').filter((l) => /^ {2}(docker|cosign) /.test(l));
    const first = (re: RegExp): number => commands.findIndex((c) => re.test(c));
    const order = [
      /^ {2}docker login --username=bot --password-stdin docker\.io$/,
      /^ {2}docker buildx create --name=go-docker-publish-\S+ --driver=docker-container/,
      // The tested platform is built by its load first, then every platform.
      /^ {2}docker buildx build .*--output=type=docker,name=ghcr\.io\/example\/tunnel:gdp-smoke-\S+/,
      /^ {2}docker buildx build .*--file=Dockerfile .*--output=type=cacheonly/,
      /^ {2}docker run --detach --name=gdp-smoke-\S+ --platform=linux\/amd64 --pull=never ghcr\.io\/example\/tunnel:gdp-smoke-\S+ --version$/,
      // The job's own tag of the tested image leaves the engine after its test.
      /^ {2}docker image rm ghcr\.io\/example\/tunnel:gdp-smoke-\S+$/,
      /--output=type=image,name=ghcr\.io\/example\/tunnel,push-by-digest=true,name-canonical=true,push=true/,
      /^ {2}docker buildx imagetools create --dry-run --tag=ghcr\.io\/example\/tunnel:v2\.3\.1 /,
      /^ {2}docker buildx imagetools create --tag=ghcr\.io\/example\/tunnel:v2\.3\.1 /
    ].map(first);
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(run.stdout).toContain('cache: gha, but there is no cache service');
    expect(commands.some((c) => c.includes('--cache-to'))).toBe(false);
    expect(run.stdout).toContain('org.opencontainers.image.version=v2.3.1');
    expect(run.stdout).toContain('VERSION=v2.3.1');
    // Each tag: an index of what was pushed by digest, with the index annotations.
    expect(run.stdout).toMatch(
      /docker buildx imagetools create --tag=ghcr\.io\/example\/tunnel:latest .*--annotation=index:org\.opencontainers\.image\.version=v2\.3\.1 .*'ghcr\.io\/example\/tunnel@<digest-1>'\n/
    );
    expect(run.stdout).toMatch(/lowercased/);
    // The password reaches the log only as the runner's mask command, before anything else.
    const lines = run.stdout.split('\n');
    expect(lines.filter((l) => l.includes('s3cret-value'))).toEqual(['::add-mask::s3cret-value']);
    expect(lines.findIndex((l) => l.includes('s3cret-value'))).toBeLessThan(lines.findIndex((l) => l.startsWith('Version:')));
    // The base64 user:password form a Docker config holds (bot:s3cret-value).
    expect(run.stdout).toContain('::add-mask::Ym90OnMzY3JldC12YWx1ZQ==');
    // Post has nothing to undo after a dry run.
    expect(run.post?.status).toBe(0);
  });

  it('the Dockerfile check: a Go compile under QEMU is a warning on its line, and that build gets GOMAXPROCS', async () => {
    const run = await releaseRun({
      images: '- {name: org/naive, dockerfile: Dockerfile.qemu}\n- {name: org/cross, dockerfile: Dockerfile}',
      platforms: 'linux/amd64,linux/arm64',
      'dry-run': 'true',
      'build-args': LOCAL_BASE_ARGS
    });
    expect(run.status).toBe(0);
    // A dry run only reads: the current builder, and which version latest holds (read at once, in any order).
    const [builder, ...reads] = run.dockerRan.split('\n').filter(Boolean);
    expect([builder, ...reads.sort()]).toEqual([
      'buildx inspect',
      ...['org/naive', 'org/cross'].map((r) => `buildx imagetools inspect ${r}:latest --format={{json .Image}}`).sort()
    ]);
    // A runner annotation on the file and line of the go build, and "no findings" for the cross-compiling one.
    expect(run.stdout).toMatch(
      /::warning title=Dockerfile check \(go-under-qemu\),file=Dockerfile\.qemu,line=14::org\/naive: Dockerfile\.qemu:14: stage "build" compiles Go under QEMU/
    );
    expect(run.stdout).toContain('Dockerfile check of org/cross (Dockerfile): no findings');
    expect(run.stdout).toMatch(/::notice::org\/naive: Go compiles under QEMU for linux\/arm64: build arg GOMAXPROCS=\d+/);
    // Each image's builds into the builder's cache: beside the load of linux/amd64, linux/arm64; then both.
    const builds = run.stdout.split('\n').filter((l) => l.startsWith('  docker buildx build') && l.includes('--output=type=cacheonly'));
    const of = (title: string): string[] => builds.filter((b) => b.includes(`--label=org.opencontainers.image.title=${title} `));
    expect(builds).toHaveLength(4);
    expect(of('naive').map((b) => /--platform=(\S+)/.exec(b)?.[1])).toEqual(['linux/arm64', 'linux/amd64,linux/arm64']);
    expect(of('naive').every((b) => /--build-arg=GOMAXPROCS=\d+/.test(b))).toBe(true);
    expect(of('cross')).toHaveLength(2);
    expect(of('cross').some((b) => b.includes('GOMAXPROCS'))).toBe(false);
    // The plan says where RUN steps execute: everywhere for the naive one, only the build platform for the other.
    expect(run.stdout).toContain('RUN steps execute on: linux/amd64, linux/arm64');
    expect(run.stdout).toContain('RUN steps execute on: linux/amd64\n');
  });

  it.each([
    ['malformed YAML', { images: '- name: [unclosed' }, /Input "images".*\[unclosed.*Expected a YAML list of images/s],
    ['an image without a name', { images: '- dockerfile: Dockerfile' }, /Input "images\[0\]\.name".*Expected a repository name/s],
    ['an unknown platform', { images: '- name: org/app', platforms: 'linux/amd64,linux/arm65' }, /Input "platforms": "linux\/arm65"/],
    [
      'a Dockerfile that does not exist',
      { images: '- {name: org/app, dockerfile: Dockerfile.nope}' },
      /Input "images\[0\]\.dockerfile": "Dockerfile\.nope".*an existing file/
    ],
    [
      'push: maybe',
      { images: '- name: org/app', push: 'maybe' },
      /Input "push": "maybe" is not valid\. Expected "auto" \| "true" \| "false"/
    ],
    ['a password without a username', { images: '- name: org/app', password: 'pw-not-shown' }, /Input "username"/],
    [
      'malformed YAML in registries',
      { images: '- name: org/app', registries: '- {registry: ghcr.io, username: u, password: pw-not-shown' },
      /Input "registries".*YAML error/
    ],
    [
      'a name that breaks the reference grammar',
      { images: '- name: ghcr.io/Org/App_/x' },
      /Input "images\[0\]\.name": Image name "ghcr\.io\/Org\/App_\/x" is not a valid repository/
    ],
    [
      'a Dockerfile outside the context',
      { images: '- {name: org/app, context: cmd, dockerfile: Dockerfile}' },
      /Input "images\[0\]\.dockerfile": "Dockerfile".*inside the build context "cmd"/
    ],
    [
      'a smoke timeout that is not a positive number',
      { images: '- {name: org/app, smoke: {args: [--version], timeout-seconds: -5}}' },
      /Input "images\[0\]\.smoke\.timeout-seconds": "-5".*a positive number of seconds/
    ],
    [
      'two images with the same name',
      { images: '- name: org/app\n- name: ORG/app' },
      /Input "images\[1\]\.name": "ORG\/app".*images\[0\] has it/
    ],
    [
      'an explicit version that cannot be a tag',
      { images: '- name: org/app', version: '   ' },
      /Input "version": " {3}" cannot be a Docker tag/
    ],
    [
      'an explicit version with shell metacharacters',
      { images: '- name: org/app', version: 'v1;id' },
      /Input "version" "v1;id" is not valid/
    ],
    [
      'an explicit version with white space (it would split -ldflags "-X main.version=$VERSION")',
      { images: '- name: org/app', version: 'has space' },
      /Input "version" "has space" is not valid: it contains " "/
    ],
    [
      'builder: docker for a run that pushes (no push by digest)',
      { images: '- name: org/app', builder: 'docker' },
      /Input "builder": "docker" is not valid when the run pushes/
    ],
    [
      'a smoke http port that is not a port',
      { images: '- {name: org/app, smoke: {http: {port: 80808}}}' },
      /Input "images\[0\]\.smoke\.http\.port": "80808".*a whole number from 1 to 65535/
    ],
    [
      'mode: merge in a run with no Actions cache service to carry the digests',
      { images: '- name: org/app', mode: 'merge' },
      /Input "mode": "merge" is not valid here\. Expected a workflow run with the GitHub Actions cache service/
    ],
    [
      'mode: platform with build-platforms no image has',
      { images: '- name: org/app', mode: 'platform', 'build-platforms': 'linux/s390x' },
      /Input "build-platforms": "linux\/s390x" is not valid here/
    ],
    [
      'sign: keyless in a job without id-token: write',
      { images: '- name: org/app', sign: 'keyless' },
      /Input "sign": "keyless" is not valid here\. Expected a job with "permissions: id-token: write"/
    ],
    [
      'attest: github in a job without id-token: write',
      { images: '- name: org/app', attest: 'github' },
      /Input "attest": "github" is not valid here\. Expected a job with "permissions: id-token: write"/
    ],
    [
      'sign: key with no key',
      { images: '- name: org/app', sign: 'key', 'cosign-password': 'pw-not-shown' },
      /Input "cosign-key": "" is not valid/
    ],
    [
      'a builder endpoint that is not ssh:// or tcp://',
      { images: '- name: org/app', 'builder-endpoints': '- {endpoint: "--host=evil", platforms: linux/arm64}' },
      /Input "builder-endpoints\[0\]\.endpoint": "--host=evil"/
    ]
  ])('%s fails naming the input and runs nothing', async (_what, inputs, message) => {
    const run = await releaseRun(inputs);
    expect(run.status).not.toBe(0);
    expect(run.stdout).toMatch(/::error::/);
    expect(run.stdout).toMatch(message);
    expect(run.stdout).not.toContain('pw-not-shown');
    expect(run.dockerRan).toBe('');
  });

  it('sign: key with no cosign on PATH fails naming the input and the step to add, and shows no key', async () => {
    const trap = trapDockerPath();
    const key =
      '-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nc2VjcmV0LWtleS1ub3Qtc2hvd24=\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----';
    const run = await runAction({
      inputs: { images: '- name: org/app', sign: 'key', 'cosign-key': key },
      event: 'release-published.json',
      eventName: 'release',
      ref: 'refs/tags/v2.3.1',
      // Only the trap: no cosign (and no git) to be found.
      env: { PATH: trap.path.split(':')[0] ?? '' }
    });
    expect(run.status).not.toBe(0);
    expect(run.stdout).toMatch(
      /Input "sign": "key" is not valid here\. Expected the cosign CLI on PATH \(add "- uses: sigstore\/cosign-installer@v3"/
    );
    expect(run.stdout.split('\n').filter((l) => l.includes('c2VjcmV0LWtleS1ub3Qtc2hvd24=') && !l.startsWith('::add-mask::'))).toEqual([]);
    expect(existsSync(trap.marker)).toBe(false);
  });
});
