// Unit tests' events and inputs: an EventContext as the runner gives it for each real webhook
// payload in __tests__/fixtures/events/, and Inputs with the documented defaults.
import { readFileSync } from 'node:fs';
import type { EventContext, ImageInput, Inputs } from '../../src/plan/types.js';

export const SHA = '3f786850e387550fdab836ed7e6dc881de23001b';

export const loadEvent = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(new URL(`../fixtures/events/${name}.json`, import.meta.url), 'utf8')) as Record<string, unknown>;

/** An EventContext as the runner gives it for each payload. */
export const ctxFor = (name: string, over: Partial<EventContext> = {}): EventContext => {
  const base: Record<string, Omit<EventContext, 'payload' | 'repository' | 'serverUrl'>> = {
    'release-published': { eventName: 'release', ref: 'refs/tags/v2.3.1', sha: SHA },
    'release-prerelease': { eventName: 'release', ref: 'refs/tags/v2.4.0-rc.1', sha: SHA },
    'workflow-dispatch': { eventName: 'workflow_dispatch', ref: 'refs/heads/master', sha: SHA },
    'push-tag': { eventName: 'push', ref: 'refs/tags/v1.10.0', sha: SHA },
    'push-branch': { eventName: 'push', ref: 'refs/heads/feature/ws-keepalive', sha: SHA },
    'pull-request-fork': { eventName: 'pull_request', ref: 'refs/pull/42/merge', sha: 'a94a8fe5ccb19ba61c4c0873d391e987982fbbd3' }
  };
  return { ...base[name]!, payload: loadEvent(name), repository: 'example/tunnel', serverUrl: 'https://github.com', ...over };
};

/** Inputs for these images, every other input at its default except one ghcr.io login. */
export const inputsFor = (images: ImageInput[], over: Partial<Inputs> = {}): Inputs => ({
  images,
  platforms: ['linux/amd64', 'linux/arm64'],
  latest: 'auto',
  semverTags: false,
  registries: [{ registry: 'ghcr.io', username: 'u', password: 'p' }],
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
  buildSecrets: { secrets: [], envs: [], files: [], ssh: [] },
  ...over
});

/** One image as the unit tests' plans have it: ghcr.io/example/tunnel, smoke-tested by `--version`. */
export const TUNNEL_IMAGE: ImageInput = {
  names: ['ghcr.io/example/tunnel'],
  dockerfile: 'Dockerfile',
  context: '.',
  buildArgs: {},
  labels: {},
  smoke: { enabled: true, args: ['--version'], env: {}, timeoutSeconds: 60, wait: { kind: 'exit' } }
};
