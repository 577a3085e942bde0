// The pipeline's guarantees against the real engine and registries: a failed smoke test pushes
// nothing for any image; one image goes to two registries with different credentials.
import { describe, expect, it } from '@jest/globals';
import {
  localPublishInputs,
  basicAuth,
  LOCAL_BASE_ARGS,
  listTags,
  registryGet,
  REGISTRY,
  REGISTRY_PASSWORD,
  REGISTRY_USER,
  REGISTRY2,
  REGISTRY2_PASSWORD,
  REGISTRY2_USER,
  runAction,
  uniqueRepo
} from './harness.js';

const common = { platforms: 'linux/amd64', 'build-args': LOCAL_BASE_ARGS, cache: 'none' };

describe('pipeline', () => {
  it(
    'one failing smoke test: the step fails naming image, platform and exit code, and no image is pushed',
    async () => {
      const ns = uniqueRepo('smokefail');
      const run = await runAction({
        inputs: {
          ...common,
          images: `
- name: ${REGISTRY}/${ns}/web
  dockerfile: Dockerfile.web
  smoke: ["--version"]
- name: ${REGISTRY}/${ns}/server
  smoke: ["--fail"]
`,
          ...localPublishInputs()
        },
        event: 'release-published.json',
        eventName: 'release',
        ref: 'refs/tags/v2.3.1'
      });
      expect(run.status).toBe(1);
      expect(run.stdout).toContain(`::error::Smoke test failed: image ${REGISTRY}/${ns}/server, platform linux/amd64: exited with code 3`);
      expect(run.stdout).toContain('server: failing on purpose');
      expect(run.stdout).toContain('Nothing was pushed');
      expect(run.outputs.pushed).toBe('false');
      const images = JSON.parse(run.outputs.images ?? '[]') as { smoke: string }[];
      expect(images.map((i) => i.smoke)).toEqual(['passed', 'failed']);
      expect(await listTags(`${ns}/web`)).toEqual([]);
      expect(await listTags(`${ns}/server`)).toEqual([]);
      expect(run.post?.stdout).toContain('Removed the temporary Docker config');
    },
    10 * 60 * 1000
  );

  it(
    'two registries with different credentials: every tag in both, the same digest',
    async () => {
      const ns = uniqueRepo('tworeg');
      const run = await runAction({
        inputs: {
          ...common,
          images: `
- names: [${REGISTRY}/${ns}/server, ${REGISTRY2}/${ns}/server]
  smoke: { args: ["--version"], expect: "^server v1\\\\.10\\\\.0 " }
`,
          registries: `
- registry: ${REGISTRY}
  username: ${REGISTRY_USER}
  password: ${REGISTRY_PASSWORD}
- registry: ${REGISTRY2}
  username: ${REGISTRY2_USER}
  password: ${REGISTRY2_PASSWORD}
`
        },
        event: 'push-tag.json',
        eventName: 'push',
        ref: 'refs/tags/v1.10.0'
      });
      expect(run.stdout).not.toMatch(/::error::/);
      expect(run.status).toBe(0);
      expect(run.outputs.pushed).toBe('true');
      expect(run.stdout.split('\n').filter((l) => l.includes(REGISTRY2_PASSWORD))).toEqual([`::add-mask::${REGISTRY2_PASSWORD}`]);
      const auth2 = basicAuth(REGISTRY2_USER, REGISTRY2_PASSWORD);
      expect(await listTags(`${ns}/server`)).toEqual(['latest', 'v1.10.0']);
      expect(await listTags(`${ns}/server`, REGISTRY2, auth2)).toEqual(['latest', 'v1.10.0']);
      const d1 = await registryGet(`${ns}/server/manifests/v1.10.0`);
      const d2 = await registryGet(`${ns}/server/manifests/v1.10.0`, REGISTRY2, auth2);
      expect(d1.digest).toMatch(/^sha256:/);
      expect(d2.digest).toBe(d1.digest);
      // The credentials of one registry do not open the other: they really are two logins.
      expect((await registryGet(`${ns}/server/tags/list`, REGISTRY2)).status).toBe(401);
      const state = JSON.parse(run.state.gdpState ?? '{}') as { registries?: string[] };
      expect(state.registries).toEqual([REGISTRY, REGISTRY2]);
    },
    10 * 60 * 1000
  );
});
