// A release published from dist/ to the real local registry: tags, platforms, labels, the images
// (native and under QEMU) print the version the release carried, the summary says where the time
// went, and post undoes the login and the action's Docker config and, on a GitHub-hosted runner,
// leaves the builder to the discarded VM.
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  docker,
  ENGINE,
  imageLabels,
  indexPlatforms,
  listTags,
  localPublishInputs,
  platformManifests,
  recordDockerPath,
  registryGet,
  REGISTRY,
  REGISTRY_USER,
  runAction,
  uniqueRepo,
  type ActionRun
} from './harness.js';

const PLATFORMS = ['linux/amd64', 'linux/arm/v7', 'linux/arm64'];

describe(`publish a release to the local registry (${ENGINE} image store)`, () => {
  const ns = uniqueRepo('release');
  const server = `${ns}/server`;
  const web = `${ns}/web`;
  // Every docker call of main and post, with the Docker config it used.
  const recorder = recordDockerPath();
  let run: ActionRun;

  beforeAll(
    async () => {
      run = await runAction({
        inputs: {
          images: `
- name: ${REGISTRY}/${server}
  dockerfile: Dockerfile
  smoke: { args: ["--version"], expect: "^server v2\\\\.3\\\\.1 linux/" }
- name: ${REGISTRY}/${web}
  dockerfile: Dockerfile.web
  smoke: ["--version"]
`,
          platforms: PLATFORMS.join(','),
          'smoke-platforms': 'all',
          ...localPublishInputs(),
          'semver-tags': 'true',
          cache: 'none'
        },
        event: 'release-published.json',
        eventName: 'release',
        ref: 'refs/tags/v2.3.1',
        env: { PATH: recorder.path, RUNNER_ENVIRONMENT: 'github-hosted' }
      });
    },
    15 * 60 * 1000
  );

  // Post left the builder (the VM of a hosted runner goes with it); here the machine stays.
  afterAll(() => {
    const state = JSON.parse(run.state.gdpState ?? '{}') as { builders?: string[] };
    for (const b of state.builders ?? []) docker(['buildx', 'rm', '--force', b]);
  });

  it('succeeds and reports what it pushed', () => {
    expect(run.stdout).not.toMatch(/::error::/);
    expect(run.status).toBe(0);
    expect(run.outputs.pushed).toBe('true');
    expect(run.outputs.version).toBe('v2.3.1');
    const images = JSON.parse(run.outputs.images ?? '[]') as {
      name: string;
      digest: string;
      smoke: string;
      tested: Record<string, string>;
      size: Record<string, number>;
    }[];
    expect(images).toHaveLength(2);
    for (const i of images) {
      expect(i.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(i.smoke).toBe('passed');
      expect(Object.keys(i.size).sort()).toEqual(PLATFORMS);
      expect(Object.keys(i.tested).sort()).toEqual(PLATFORMS);
    }
    expect(run.summary).toContain(`${REGISTRY}/${server}`);
  });

  it('has every expected tag, every platform and the labels in the registry', async () => {
    for (const repo of [server, web]) {
      expect(await listTags(repo)).toEqual(['2', '2.3', '2.3.1', 'latest', 'v2.3.1']);
      expect(await indexPlatforms(repo, 'v2.3.1')).toEqual(PLATFORMS);
      const labels = await imageLabels(repo, 'v2.3.1', 'linux/arm64');
      expect(labels['org.opencontainers.image.version']).toBe('v2.3.1');
      expect(labels['org.opencontainers.image.revision']).toBe('3f786850e387550fdab836ed7e6dc881de23001b');
      expect(labels['org.opencontainers.image.source']).toBe('https://github.com/example/tunnel');
      expect(labels['org.opencontainers.image.licenses']).toBe('MIT');
    }
    const images = JSON.parse(run.outputs.images ?? '[]') as { name: string; digest: string }[];
    const r = await registryGet(`${server}/manifests/v2.3.1`);
    expect(r.digest).toBe(images[0]?.digest);
    // The index itself carries the annotations GHCR reads for a multi-arch image.
    expect((r.json as { annotations?: Record<string, string> }).annotations).toEqual(
      expect.objectContaining({
        'org.opencontainers.image.description': 'SSH tunnels in a container',
        'org.opencontainers.image.version': 'v2.3.1',
        'org.opencontainers.image.source': 'https://github.com/example/tunnel'
      })
    );
  });

  it('what the registry serves is what ran: every smoke-tested platform’s pushed manifest is the tested image', async () => {
    const images = JSON.parse(run.outputs.images ?? '[]') as { name: string; tested: Record<string, string> }[];
    for (const [i, repo] of [server, web].entries()) {
      const manifests = await platformManifests(repo, 'v2.3.1');
      for (const platform of PLATFORMS) {
        const manifest = manifests[platform] ?? '';
        const config = ((await registryGet(`${repo}/manifests/${manifest}`)).json as { config: { digest: string } }).config.digest;
        // The engine's image ID: the config digest on the classic store, the manifest digest on containerd's.
        expect(images[i]?.tested[platform]).toBe(ENGINE === 'classic' ? config : manifest);
      }
    }
    expect(run.stdout).toMatch(/is the image that was smoke-tested \(image ID sha256:[0-9a-f]{64}\)/);
  });

  it('the engine keeps nothing of the smoke tests: each platform is loaded under the job’s own tag, and that tag and the container go after its test', () => {
    const calls = recorder.calls().map((c) => c.args);
    for (const repo of [server, web]) {
      const tag = `${REGISTRY}/${repo}:gdp-smoke-`;
      const loads = calls.filter((a) => a.startsWith('buildx build') && a.includes(`--output=type=docker,name=${tag}`));
      const removed = calls.filter((a) => a.startsWith(`image rm ${tag}`));
      expect(loads).toHaveLength(PLATFORMS.length);
      expect(removed).toHaveLength(PLATFORMS.length);
    }
    const left = docker(['image', 'ls', '--format', '{{.Repository}}:{{.Tag}}']).out.split('\n');
    expect(left.filter((r) => r.includes(`${ns}/`) && r.includes(':gdp-smoke-'))).toEqual([]);
    expect(left.filter((r) => r.startsWith(`${REGISTRY}/${ns}/`))).toEqual([]);
    expect(docker(['ps', '--all', '--filter', 'name=gdp-smoke-', '--quiet']).out.trim()).toBe('');
  });

  it('pulled back from the registry, prints the release version natively and under QEMU', () => {
    for (const ref of [`${REGISTRY}/${server}:v2.3.1`, `${REGISTRY}/${web}:v2.3.1`]) {
      for (const platform of PLATFORMS) {
        docker(['image', 'rm', '--force', ref]);
        const out = docker(['run', '--rm', '--pull=always', `--platform=${platform}`, ref, '--version']);
        expect(out.out).toContain(`v2.3.1 ${platform.replace(/\/v\d$/, '')}`); // Go's GOARCH has no variant
        expect(out.status).toBe(0);
      }
    }
  });

  it('the job summary has a row per phase: each image’s build, each platform’s load + smoke test, push, check, tag, post', () => {
    // The summary once post ran: main's, then post's.
    const summaries = run.post?.summary ?? '';
    const rows = [...summaries.matchAll(/<tr><td>([^<]+)<\/td><td>([\d.]+ s)<\/td><td>([\d.]+ s)<\/td><\/tr>/g)].map((m) => m[1]);
    const images = [`${REGISTRY}/${server}`, `${REGISTRY}/${web}`];
    expect(rows).toEqual(
      expect.arrayContaining([
        'login',
        'QEMU',
        'builder',
        'Go cache restore',
        ...images.flatMap((i) => [`build ${i}`, ...PLATFORMS.map((p) => `load + smoke ${i} ${p}`), `push ${i}`, `check ${i}`]),
        'tag',
        'post'
      ])
    );
    expect(run.summary).toContain('<h3>Where the time went</h3>');
    expect(run.post?.summary).toContain('<h3>Post step</h3>');
  });

  it('post logs out, removes the temporary Docker config and, on a GitHub-hosted runner, leaves the builder to the VM', () => {
    expect(run.post?.status).toBe(0);
    // What main saved for post to undo: its own Docker config and the registry it logged in to.
    const state = JSON.parse(run.state.gdpState ?? '{}') as { dockerConfig?: string; registries?: string[]; builders?: string[] };
    expect(state.registries).toEqual([REGISTRY]);
    const config = state.dockerConfig ?? '';
    expect(config).not.toBe('');
    // The login went into that config, post logged out of it, and then the config was gone.
    const calls = recorder.calls();
    expect(calls.filter((c) => /^(login|logout) /.test(c.args))).toEqual([
      { config, args: `login --username=${REGISTRY_USER} --password-stdin ${REGISTRY}` },
      { config, args: `logout ${REGISTRY}` }
    ]);
    expect(existsSync(config)).toBe(false);
    // A GitHub-hosted runner: post left the builder main created (the VM goes with it), and said so.
    const builder = state.builders?.[0] ?? 'none';
    expect(calls.filter((c) => c.args.startsWith('buildx rm'))).toEqual([]);
    expect(run.post?.stdout).toContain(`Left builder ${builder} in place: a GitHub-hosted runner`);
    expect(docker(['buildx', 'inspect', builder]).status).toBe(0);
  });
});
