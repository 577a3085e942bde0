// Smoke tests that fit servers, against the real engine: the fixture's HTTP server (cmd/api,
// Dockerfile.api) passes by staying up, by its HEALTHCHECK and by answering on its port, natively
// and under QEMU; a server that crashes, one whose port never answers and one that is unhealthy
// fail the release with what went wrong, push nothing and leave no container behind.
import { describe, expect, it } from '@jest/globals';
import { docker, indexPlatforms, listTags, localPublishInputs, LOCAL_BASE_ARGS, REGISTRY, runAction, uniqueRepo } from './harness.js';

const release = { event: 'release-published.json', eventName: 'release', ref: 'refs/tags/v2.3.1' };
const smokeContainers = (): string => docker(['ps', '--all', '--filter', 'name=gdp-smoke-', '--quiet']).out.trim();

describe('smoke tests for servers', () => {
  it(
    'a server passes by staying up, by a healthy HEALTHCHECK, and by answering HTTP, on amd64 and on arm64 under QEMU; then it is pushed',
    async () => {
      const ns = uniqueRepo('servers');
      const run = await runAction({
        inputs: {
          platforms: 'linux/amd64,linux/arm64',
          'smoke-platforms': 'all',
          'build-args': LOCAL_BASE_ARGS,
          cache: 'none',
          images: `
- name: ${REGISTRY}/${ns}/up
  dockerfile: Dockerfile.api
  target: api
- name: ${REGISTRY}/${ns}/healthy
  dockerfile: Dockerfile.api
  target: api-healthcheck
- name: ${REGISTRY}/${ns}/http
  dockerfile: Dockerfile.api
  target: api
  smoke: { http: { port: 8080, path: /healthz }, expect: "listening on :8080", timeout-seconds: 30 }
`,
          ...localPublishInputs()
        },
        ...release
      });
      expect(run.stdout).not.toMatch(/::error::/);
      expect(run.status).toBe(0);
      const images = JSON.parse(run.outputs.images ?? '[]') as { name: string; smoke: string; tested: Record<string, string> }[];
      expect(images.map((i) => [i.name.split('/').pop(), i.smoke, Object.keys(i.tested).sort()])).toEqual(
        ['up', 'healthy', 'http'].map((n) => [n, 'passed', ['linux/amd64', 'linux/arm64']])
      );
      // What the action decided, once per image and platform.
      const passes = (how: string): number => run.stdout.split('\n').filter((l) => l.trim() === `Passed: ${how}`).length;
      expect(passes('still running after 5 s')).toBe(2);
      expect(passes('its HEALTHCHECK reported healthy')).toBe(2);
      expect(passes('port 8080 answered 200 on /healthz')).toBe(2);
      // The log shows what the server said; under QEMU it is the arm64 binary that ran.
      expect(run.stdout).toContain('api v2.3.1 listening on :8080 (linux/amd64)');
      expect(run.stdout).toContain('api v2.3.1 listening on :8080 (linux/arm64)');
      for (const n of ['up', 'healthy', 'http']) {
        expect(await listTags(`${ns}/${n}`)).toEqual(['latest', 'v2.3.1']);
        expect(await indexPlatforms(`${ns}/${n}`, 'v2.3.1')).toEqual(['linux/amd64', 'linux/arm64']);
      }
      expect(smokeContainers()).toBe('');
    },
    15 * 60 * 1000
  );

  it(
    'a server that crashes after 1 s, a port that never answers and an unhealthy HEALTHCHECK fail the release: each named, nothing pushed, no container left',
    async () => {
      const ns = uniqueRepo('badservers');
      const run = await runAction({
        inputs: {
          platforms: 'linux/amd64',
          'build-args': LOCAL_BASE_ARGS,
          cache: 'none',
          images: `
- name: ${REGISTRY}/${ns}/crash
  dockerfile: Dockerfile.api
  target: api
  smoke: { args: ["--crash"], up-seconds: 4 }
- name: ${REGISTRY}/${ns}/deaf
  dockerfile: Dockerfile.api
  target: api
  smoke: { http: 9090, timeout-seconds: 6 }
- name: ${REGISTRY}/${ns}/sick
  dockerfile: Dockerfile.api
  target: api-healthcheck
  smoke: { args: ["--healthz-status=503"], up-seconds: 10, timeout-seconds: 20 }
`,
          ...localPublishInputs()
        },
        ...release
      });
      expect(run.status).toBe(1);
      const error = run.stdout.split('\n').find((l) => l.startsWith('::error::')) ?? '';
      // The error is one annotation: %0A is a new line in a workflow command.
      const message = error.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%');
      expect(message).toContain(`image ${REGISTRY}/${ns}/crash, platform linux/amd64: exited with code 2.`);
      expect(message).toContain('api: crashing on purpose');
      expect(message).toContain(
        `image ${REGISTRY}/${ns}/deaf, platform linux/amd64: port 9090 did not answer 200 on / within 6 s (nothing answered).`
      );
      expect(message).toContain('api v2.3.1 listening on :8080 (linux/amd64)');
      expect(message).toMatch(
        new RegExp(
          `image ${REGISTRY}/${ns}/sick, platform linux/amd64: its HEALTHCHECK reported unhealthy \\(probe: 503 Service Unavailable\\)`
        )
      );
      expect(message).toContain('Nothing was pushed');
      const images = JSON.parse(run.outputs.images ?? '[]') as { smoke: string }[];
      expect(images.map((i) => i.smoke)).toEqual(['failed', 'failed', 'failed']);
      for (const n of ['crash', 'deaf', 'sick']) expect(await listTags(`${ns}/${n}`)).toEqual([]);
      expect(smokeContainers()).toBe('');
    },
    15 * 60 * 1000
  );
});
