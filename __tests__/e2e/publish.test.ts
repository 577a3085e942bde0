// A release published from dist/ to the real local registry: tags, platforms, labels, and the
// images (native and under QEMU) print the version the release carried.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from '@jest/globals';
import {
  docker,
  imageLabels,
  indexPlatforms,
  listTags,
  localPublishInputs,
  registryGet,
  REGISTRY,
  REGISTRY_PASSWORD,
  REGISTRY_USER,
  runAction,
  uniqueRepo,
  type ActionRun
} from './harness.js';

describe('publish a release to the local registry', () => {
  const ns = uniqueRepo('release');
  const server = `${ns}/server`;
  const web = `${ns}/web`;
  let run: ActionRun;

  beforeAll(
    async () => {
      run = await runAction({
        inputs: {
          images: `
- name: ${REGISTRY}/${server}
  dockerfile: Dockerfile
  smoke: { args: ["--version"], expect: "^server v2\\\\.3\\\\.1 linux/amd64" }
- name: ${REGISTRY}/${web}
  dockerfile: Dockerfile.web
  smoke: ["--version"]
`,
          platforms: 'linux/amd64,linux/arm64',
          ...localPublishInputs(),
          'semver-tags': 'true',
          cache: 'none'
        },
        event: 'release-published.json',
        eventName: 'release',
        ref: 'refs/tags/v2.3.1'
      });
    },
    15 * 60 * 1000
  );

  it('succeeds and reports what it pushed', () => {
    expect(run.stdout).not.toMatch(/::error::/);
    expect(run.status).toBe(0);
    expect(run.outputs.pushed).toBe('true');
    expect(run.outputs.version).toBe('v2.3.1');
    const images = JSON.parse(run.outputs.images ?? '[]') as {
      name: string;
      digest: string;
      smoke: string;
      size: Record<string, number>;
    }[];
    expect(images).toHaveLength(2);
    for (const i of images) {
      expect(i.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(i.smoke).toBe('passed');
      expect(Object.keys(i.size).sort()).toEqual(['linux/amd64', 'linux/arm64']);
    }
    expect(run.summary).toContain(`${REGISTRY}/${server}`);
  });

  it('has every expected tag, every platform and the labels in the registry', async () => {
    for (const repo of [server, web]) {
      expect(await listTags(repo)).toEqual(['2', '2.3', '2.3.1', 'latest', 'v2.3.1']);
      expect(await indexPlatforms(repo, 'v2.3.1')).toEqual(['linux/amd64', 'linux/arm64']);
      const labels = await imageLabels(repo, 'v2.3.1', 'linux/arm64');
      expect(labels['org.opencontainers.image.version']).toBe('v2.3.1');
      expect(labels['org.opencontainers.image.revision']).toBe('3f786850e387550fdab836ed7e6dc881de23001b');
      expect(labels['org.opencontainers.image.source']).toBe('https://github.com/example/tunnel');
      expect(labels['org.opencontainers.image.licenses']).toBe('MIT');
    }
    const images = JSON.parse(run.outputs.images ?? '[]') as { name: string; digest: string }[];
    const r = await registryGet(`${server}/manifests/v2.3.1`);
    expect(r.digest).toBe(images[0]?.digest);
  });

  it('pulled back from the registry, prints the release version on amd64 and under QEMU on arm64', () => {
    const config = mkdtempSync(join(tmpdir(), 'gdp-pull-'));
    const env = { DOCKER_CONFIG: config };
    expect(docker(['login', '-u', REGISTRY_USER, '-p', REGISTRY_PASSWORD, REGISTRY], env).status).toBe(0);
    for (const ref of [`${REGISTRY}/${server}:v2.3.1`, `${REGISTRY}/${web}:v2.3.1`]) {
      docker(['image', 'rm', '--force', ref]);
      for (const platform of ['linux/amd64', 'linux/arm64']) {
        const out = docker(['run', '--rm', '--pull=always', `--platform=${platform}`, ref, '--version'], env);
        expect(out.out).toContain(`v2.3.1 ${platform}`);
        expect(out.status).toBe(0);
      }
    }
  });

  it('post logs out and removes the temporary Docker config', () => {
    expect(run.post?.status).toBe(0);
    expect(run.post?.stdout).toContain('Removed the temporary Docker config');
    const state = JSON.parse(run.state.gdpState ?? '{}') as { dockerConfig?: string; registries?: string[] };
    expect(state.registries).toEqual([REGISTRY]);
    expect(docker(['version']).status).toBe(0);
  });
});
