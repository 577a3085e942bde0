// Fitting into the workflow's own steps (pure parts): the action's Docker config starts from the
// user's credentials, and a registry's refusal is read from what buildx printed.
import { describe, expect, it } from '@jest/globals';
import { authFailure, authFailureMessage } from '../../src/plan/auth-failure.js';
import { actionDockerConfig, hasCredentials } from '../../src/plan/docker-config.js';
import { registryOf } from '../../src/plan/reference.js';
import { setupBuilder } from '../../src/run/builder.js';
import { DOCKER_DRIVER_BUILDER } from '../support/fake-engine.js';
import { FakeRunner } from '../support/fake-runner.js';

describe("the action's Docker config", () => {
  const user = {
    auths: { 'localhost:5151': { auth: 'Z2RwOnB3' }, 'https://index.docker.io/v1/': { auth: 'aHViOnB3' } },
    credHelpers: { 'us-docker.pkg.dev': 'gcloud', '123.dkr.ecr.us-east-1.amazonaws.com': 'ecr-login' },
    credsStore: 'desktop',
    currentContext: 'remote',
    proxies: { default: { httpProxy: 'http://proxy:3128' } }
  };

  it("copies the user's auths, credHelpers and credsStore, and nothing else", () => {
    expect(actionDockerConfig(user, [])).toEqual({ auths: user.auths, credHelpers: user.credHelpers, credsStore: 'desktop' });
  });

  it("a registry the action logs in to: the user's entry is out, and its login goes to the action's own file", () => {
    const c = actionDockerConfig(user, ['localhost:5151', 'us-docker.pkg.dev', 'docker.io']);
    expect(Object.keys(c.auths ?? {})).toEqual([]);
    expect(c.credHelpers).toEqual({
      'us-docker.pkg.dev': '',
      '123.dkr.ecr.us-east-1.amazonaws.com': 'ecr-login',
      'localhost:5151': '',
      'https://index.docker.io/v1/': '',
      'docker.io': '',
      'index.docker.io': '',
      'registry-1.docker.io': ''
    });
  });

  it('starts empty from no config, or one that is not an object', () => {
    expect(actionDockerConfig(undefined, [])).toEqual({});
    expect(actionDockerConfig('nonsense', ['ghcr.io'])).toEqual({ credHelpers: { 'ghcr.io': '' } });
  });

  it('knows which registries it has credentials for', () => {
    const noStore = { auths: user.auths, credHelpers: user.credHelpers };
    expect(['localhost:5151', 'docker.io', 'us-docker.pkg.dev', 'ghcr.io'].map((r) => hasCredentials(noStore, r))).toEqual([
      true,
      true,
      true,
      false
    ]);
    expect(hasCredentials({ credsStore: 'desktop' }, 'ghcr.io')).toBe(true);
    expect(registryOf('org/app')).toBe('docker.io');
    expect(registryOf('localhost:5151/org/app')).toBe('localhost:5151');
  });
});

describe('a registry that refuses', () => {
  // As buildx 0.29 printed it for a push without credentials (the report).
  const push401 = [
    '#5 exporting to image',
    '#5 ERROR: failed to push 127.0.0.1:5151/interop/app: unexpected status from HEAD request to http://127.0.0.1:5151/v2/interop/app/blobs/sha256:e2a3bc: 401 Unauthorized',
    'ERROR: failed to build: failed to solve: failed to push 127.0.0.1:5151/interop/app: unexpected status from HEAD request to http://127.0.0.1:5151/v2/interop/app/blobs/sha256:e2a3bc: 401 Unauthorized'
  ].join('\n');
  it.each([
    ['a push, 401', push401, { registry: '127.0.0.1:5151', answer: '401 Unauthorized' }],
    [
      'a base image pull, 401',
      'ERROR: failed to solve: localhost:5151/private/golang:local: failed to resolve source metadata for localhost:5151/private/golang:local: unexpected status from HEAD request to http://localhost:5151/v2/private/golang/manifests/local: 401 Unauthorized',
      { registry: 'localhost:5151', answer: '401 Unauthorized' }
    ],
    [
      'Docker Hub denies a push',
      'ERROR: failed to push docker.io/org/app: push access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed',
      { registry: 'docker.io', answer: 'insufficient_scope: authorization failed' }
    ],
    [
      'the BuildKit image pulled at the builder’s start (as setup-buildx reported it)',
      'ERROR: Error response from daemon: Head "https://registry-1.docker.io/v2/moby/buildkit/manifests/buildx-stable-1": unauthorized: incorrect username or password',
      { registry: 'docker.io', answer: 'unauthorized: incorrect username or password' }
    ],
    [
      'a Docker Hub image named without its registry',
      "Error response from daemon: pull access denied for moby/buildkit, repository does not exist or may require 'docker login': denied: requested access to the resource is denied",
      { registry: 'docker.io', answer: 'denied: requested access to the resource is denied' }
    ],
    [
      'a 403 from GHCR',
      'failed to push ghcr.io/org/app: unexpected status from POST request to https://ghcr.io/v2/org/app/blobs/uploads/: 403 Forbidden',
      { registry: 'ghcr.io', answer: '403 Forbidden' }
    ]
  ])('%s: names the registry and its answer', (_what, output, want) => {
    expect(authFailure(output)).toEqual(want);
  });

  it('is not a refusal when the registry did not refuse', () => {
    expect(
      authFailure('ERROR: failed to solve: process "/bin/sh -c go build" did not complete successfully: exit code: 1')
    ).toBeUndefined();
    expect(authFailure('failed to push ghcr.io/org/app: 503 Service Unavailable')).toBeUndefined();
  });

  it('the message names the registry and both ways to give credentials', () => {
    const m = authFailureMessage({ registry: '127.0.0.1:5151', answer: '401 Unauthorized' }, 'the push of x');
    expect(m).toMatch(/^Registry 127\.0\.0\.1:5151 refused the push of x \(401 Unauthorized\)\./);
    expect(m).toContain('a login step before this one');
    expect(m).toContain('the "registries" input');
  });

  it('a builder whose BuildKit image pull is refused: the error names the registry, the pull and both ways to give credentials', async () => {
    const r = new FakeRunner((args) =>
      args[1] === 'inspect'
        ? DOCKER_DRIVER_BUILDER
        : args[1] === 'create'
          ? {
              exitCode: 1,
              stderr:
                'ERROR: Error response from daemon: Head "https://registry-1.docker.io/v2/moby/buildkit/manifests/buildx-stable-1": unauthorized: incorrect username or password'
            }
          : {}
    );
    await expect(setupBuilder('auto', r, '42-1')).rejects.toThrow(
      /^Registry docker\.io refused the pull of the BuildKit image for the builder go-docker-publish-42-1 \(unauthorized: incorrect username or password\)\. Give the action credentials for docker\.io/
    );
  });
});
