// builder-endpoints for real: a second Docker engine reached over SSH on loopback
// (scripts/remote-engine.sh) builds linux/arm64 while the runner's engine builds linux/amd64;
// the two parts become one multi-platform image, smoke-tested and pushed.
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

/** Build cache records of an engine, by its description ("[build 6/6] RUN --mount…"). */
function cacheRecords(run: (args: string[]) => { status: number; out: string }): string {
  return run(['buildx', 'du', '--verbose']).out;
}

describe('a build node over SSH', () => {
  const ns = uniqueRepo('nodes');
  let run: ActionRun;

  beforeAll(
    async () => {
      expect(remote(['info', '--format={{.DockerRootDir}}']).out).toContain('remote');
      expect(remote(['builder', 'prune', '--all', '--force']).status).toBe(0);
      run = await runAction({
        inputs: {
          images: `- name: ${REGISTRY}/${ns}/server\n  smoke: ["--version"]`,
          platforms: 'linux/amd64,linux/arm64',
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

  it('the remote engine did the arm64 compile: its build cache holds the Go build step', () => {
    expect(cacheRecords(remote)).toMatch(/go build -trimpath/);
  });

  it('pushes one image index with both platforms, the digest the action reported', async () => {
    expect(await indexPlatforms(`${ns}/server`, 'v2.3.1')).toEqual(['linux/amd64', 'linux/arm64']);
    const images = JSON.parse(run.outputs.images ?? '[]') as { digest: string }[];
    const registry = await platformManifests(`${ns}/server`, 'latest');
    expect(Object.keys(registry).sort()).toEqual(['linux/amd64', 'linux/arm64']);
    expect(images[0]?.digest).toBe((await registryGet(`${ns}/server/manifests/v2.3.1`)).digest);
  });

  it('the merged image in the runner engine runs on both platforms (arm64 under QEMU)', () => {
    const ref = `${REGISTRY}/${ns}/server:v2.3.1`;
    expect(docker(['run', '--rm', '--platform=linux/arm64', ref, '--version']).out).toContain('server v2.3.1 linux/arm64');
    expect(docker(['run', '--rm', '--platform=linux/amd64', ref, '--version']).out).toContain('server v2.3.1 linux/amd64');
  });

  it('post leaves no Docker context behind: it lived in the temporary config', () => {
    expect(docker(['context', 'ls', '--format={{.Name}}']).out).not.toMatch(/gdp-node-/);
    expect(run.post?.status).toBe(0);
  });
});
