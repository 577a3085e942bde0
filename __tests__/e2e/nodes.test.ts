// builder-endpoints for real: a third Docker engine reached over SSH on loopback
// (scripts/remote-engine.sh) builds linux/arm64 in a docker-container builder of its own while
// the runner's builder builds linux/amd64; each platform is loaded and smoke-tested on the
// runner, each part pushed by digest, and the tags name one index of both.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  docker,
  indexPlatforms,
  localPublishInputs,
  platformManifests,
  REGISTRY,
  registryGet,
  runAction,
  uniqueRepo,
  type ActionRun
} from './harness.js';

const REMOTE_SSH = process.env.DOCKER_REMOTE_SSH ?? 'ssh://gdpbuilder@127.0.0.1:2222';
const REMOTE_HOST = process.env.DOCKER_REMOTE_HOST ?? 'unix:///var/run/gdp-remote/docker.sock';
const remote = (args: string[]): { status: number; out: string } => docker(args, { DOCKER_HOST: REMOTE_HOST });

describe('a build node over SSH', () => {
  const ns = uniqueRepo('nodes');
  let run: ActionRun;

  beforeAll(
    async () => {
      expect(remote(['info', '--format={{.DockerRootDir}}']).out).toContain('remote');
      run = await runAction({
        inputs: {
          images: `- name: ${REGISTRY}/${ns}/server\n  smoke: ["--version"]`,
          platforms: 'linux/amd64,linux/arm64',
          'smoke-platforms': 'all',
          cache: 'none',
          'builder-endpoints': `- endpoint: ${REMOTE_SSH}\n  platforms: [linux/arm64]`,
          ...localPublishInputs()
        },
        event: 'release-published.json',
        eventName: 'release',
        ref: 'refs/tags/v2.3.1'
      });
    },
    15 * 60 * 1000
  );

  afterAll(() => {
    for (const t of ['v2.3.1', 'latest']) docker(['image', 'rm', '--force', `${REGISTRY}/${ns}/server:${t}`]);
  });

  it('succeeds, building arm64 on the node and amd64 on the runner', () => {
    expect(run.status === 0 ? '' : run.stdout.split('\n').slice(-30).join('\n')).toBe('');
    expect(run.stdout).toMatch(/Build node ssh:\/\/gdpbuilder@127\.0\.0\.1:2222 \(Docker [\d.]+\S* amd64\): builds linux\/arm64/);
    expect(run.stdout).toContain(`Building ${REGISTRY}/${ns}/server for linux/arm64 on ${REMOTE_SSH}`);
    expect(run.stdout).toContain(`Building ${REGISTRY}/${ns}/server for linux/amd64 on the runner`);
  });

  it('the node did the arm64 compile and the runner the amd64 one; the node keeps its builder state for the next run', () => {
    const group = (where: string): string => {
      const start = run.stdout.indexOf(`::group::Build ${REGISTRY}/${ns}/server for ${where}`);
      return start < 0 ? '' : run.stdout.slice(start, run.stdout.indexOf('::endgroup::', start));
    };
    expect(group(`linux/arm64 on ${REMOTE_SSH}`)).toMatch(/RUN .*GOARCH=arm64 .*go build -trimpath/);
    expect(group('linux/amd64 on the runner')).toMatch(/RUN .*GOARCH=amd64 .*go build -trimpath/);
    // The node's builder was removed by post with --keep-state: its cache volume stays there.
    expect(run.post?.stdout).toMatch(/Removed builder gdp-node-builder-[0-9a-f]{12} \(its build cache stays on the node\)/);
    const builder = /Removed builder (gdp-node-builder-[0-9a-f]{12})/.exec(run.post?.stdout ?? '')?.[1] ?? 'none';
    expect(remote(['volume', 'ls', '--format={{.Name}}']).out).toContain(`buildx_buildkit_${builder}0_state`);
    expect(remote(['ps', '--all', '--format={{.Names}}']).out).not.toContain(`buildx_buildkit_${builder}0`);
  });

  it('pushes one image index with both platforms, the digest the action reported', async () => {
    expect(await indexPlatforms(`${ns}/server`, 'v2.3.1')).toEqual(['linux/amd64', 'linux/arm64']);
    const images = JSON.parse(run.outputs.images ?? '[]') as { digest: string }[];
    const registry = await platformManifests(`${ns}/server`, 'latest');
    expect(Object.keys(registry).sort()).toEqual(['linux/amd64', 'linux/arm64']);
    expect(images[0]?.digest).toBe((await registryGet(`${ns}/server/manifests/v2.3.1`)).digest);
  });

  it('the image pulled back runs on both platforms (arm64 under QEMU); arm64 was smoke-tested as the node built it', () => {
    const ref = `${REGISTRY}/${ns}/server:v2.3.1`;
    for (const p of ['linux/arm64', 'linux/amd64']) {
      docker(['image', 'rm', '--force', ref]);
      expect(docker(['run', '--rm', '--pull=always', `--platform=${p}`, ref, '--version']).out).toContain(`server v2.3.1 ${p}`);
    }
    expect(run.stdout).toMatch(
      /server linux\/arm64: the pushed manifest sha256:[0-9a-f]{64} \(config sha256:[0-9a-f]{64}\) is the image that was smoke-tested/
    );
  });

  it('post leaves no Docker context behind: it lived in the temporary config', () => {
    expect(docker(['context', 'ls', '--format={{.Name}}']).out).not.toMatch(/gdp-node-/);
    expect(run.post?.status).toBe(0);
  });
});
