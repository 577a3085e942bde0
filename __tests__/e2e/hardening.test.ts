// Security and faults, for real: hostile event values, a pull request from a fork, a smoke test
// that hangs, a main step that fails half-way (post must leave the runner as it found it), and a
// cache service that fails. Every run is dist/ as a runner starts it, against the real engine.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startCacheServer, type CacheServer } from '../support/gha-cache-server.js';
import {
  docker,
  EVENTS,
  listTags,
  trapDockerPath,
  localPublishInputs,
  recordDockerPath,
  REGISTRY,
  REGISTRY_USER,
  runAction,
  uniqueRepo,
  type ActionRun
} from './harness.js';

const MINUTES = 60 * 1000;
const one = { platforms: 'linux/amd64', cache: 'none' };

/** An event payload from the shared fixtures with some fields changed, in a file of its own. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- webhook payloads, edited in place
type Payload = Record<string, any>;
function eventFile(base: string, change: (e: Payload) => void): string {
  const e = JSON.parse(readFileSync(join(EVENTS, base), 'utf8')) as Payload;
  change(e);
  const f = join(mkdtempSync(join(tmpdir(), 'gdp-event-')), 'event.json');
  writeFileSync(f, JSON.stringify(e));
  return f;
}

const failedBecause = (r: ActionRun): string => `status ${r.status}:\n${r.stdout.split('\n').slice(-30).join('\n')}`;

describe('event values are data, never commands or flags', () => {
  const PWNED = '/tmp/pwned';
  beforeAll(() => rmSync(PWNED, { force: true }));

  it(
    'a release whose tag_name is `v1.0.0";touch /tmp/pwned;"` fails cleanly, naming it, before any docker command; no file appears',
    async () => {
      const tag = 'v1.0.0";touch /tmp/pwned;"';
      const trap = trapDockerPath();
      const run = await runAction({
        inputs: { ...one, images: `- name: ${REGISTRY}/x/server\n  smoke: ["--version"]`, ...localPublishInputs() },
        event: eventFile('release-published.json', (e) => {
          e.release.tag_name = tag;
          e.release.name = '$(touch /tmp/pwned)';
        }),
        eventName: 'release',
        ref: `refs/tags/${tag}`,
        env: { PATH: trap.path }
      });
      expect(run.status).not.toBe(0);
      expect(run.stdout).toContain('::error::The release tag_name "v1.0.0\\";touch /tmp/pwned;\\"" is not valid: it contains "\\"" ";"');
      expect(existsSync(trap.marker)).toBe(false);
      expect(existsSync(PWNED)).toBe(false);
      expect(run.post?.status).toBe(0);
    },
    5 * MINUTES
  );

  it(
    'a push to the branch `$(id)`: tagged "_-id-", nothing pushed (push: auto), no command substitution anywhere',
    async () => {
      const ns = uniqueRepo('hostile-branch');
      const run = await runAction({
        inputs: { ...one, images: `- name: ${REGISTRY}/${ns}/server\n  smoke: ["--version"]`, ...localPublishInputs() },
        event: eventFile('push-branch.json', (e) => (e.ref = 'refs/heads/$(id)')),
        eventName: 'push',
        ref: 'refs/heads/$(id)'
      });
      expect(run.status).toBe(0);
      expect(run.outputs.tags?.split('\n')[0]).toBe(`${REGISTRY}/${ns}/server:_-id-`);
      expect(run.stdout).not.toMatch(/uid=\d+/);
      expect(await listTags(`${ns}/server`)).toEqual([]);
    },
    10 * MINUTES
  );

  it(
    'a dispatch whose version input looks like a flag ("--help") is tagged "_-help"; no argument of any command starts with it',
    async () => {
      const run = await runAction({
        inputs: { ...one, images: `- name: ${REGISTRY}/x/server`, 'dry-run': 'true', ...localPublishInputs() },
        event: eventFile('workflow-dispatch.json', (e) => (e.inputs = { ...e.inputs, version: '--help' })),
        eventName: 'workflow_dispatch',
        ref: 'refs/heads/main'
      });
      expect(run.status).toBe(0);
      expect(run.outputs.tags?.split('\n')).toEqual([`${REGISTRY}/x/server:_-help`]);
      const commands = run.stdout.split('\n').filter((l) => l.startsWith('  docker '));
      expect(commands.length).toBeGreaterThan(2);
      for (const c of commands) expect(c.split(' ').filter((w) => w.startsWith('--help'))).toEqual([]);
    },
    5 * MINUTES
  );
});

describe('a pull request from a fork', () => {
  it(
    'never logs in and never pushes, even with push: true and credentials; it still builds and smoke-tests',
    async () => {
      const ns = uniqueRepo('fork');
      const run = await runAction({
        inputs: { ...one, images: `- name: ${REGISTRY}/${ns}/server\n  smoke: ["--version"]`, ...localPublishInputs(), push: 'true' },
        event: 'pull-request-fork.json',
        eventName: 'pull_request',
        ref: 'refs/pull/42/merge'
      });
      expect(run.status).toBe(0);
      expect(run.outputs.pushed).toBe('false');
      expect(run.stdout).toMatch(/fork/i);
      expect(run.stdout).not.toMatch(/Logging in to|docker login/);
      expect(JSON.parse(run.state.gdpState ?? '{}')).toMatchObject({ registries: [] });
      expect((JSON.parse(run.outputs.images ?? '[]') as { smoke: string }[])[0]?.smoke).toBe('passed');
      expect(run.stdout).toContain('server pr-42 linux/amd64');
      expect(await listTags(`${ns}/server`)).toEqual([]);
    },
    10 * MINUTES
  );
});

/** What the action must leave as it found it: the user's Docker config, builders, containers, temp dirs. */
function runnerSnapshot(): Record<string, string> {
  const userConfig = join(homedir(), '.docker', 'config.json');
  return {
    dockerConfig: existsSync(userConfig) ? readFileSync(userConfig, 'utf8') : '(none)',
    builders: docker(['buildx', 'ls']).out,
    containers: docker(['ps', '--all', '--quiet']).out
  };
}

describe('a main step that fails half-way, then post', () => {
  let before: Record<string, string>;
  beforeAll(() => {
    before = runnerSnapshot();
  });

  it(
    'a smoke test that hangs is killed at its timeout, its container removed, nothing pushed; post logs out and removes the config',
    async () => {
      const ns = uniqueRepo('hang');
      const recorder = recordDockerPath();
      const run = await runAction({
        inputs: {
          ...one,
          images: `- name: ${REGISTRY}/${ns}/server\n  smoke: {entrypoint: /bin/sleep, args: ["600"], timeout-seconds: 3}`,
          ...localPublishInputs()
        },
        event: 'release-published.json',
        eventName: 'release',
        ref: 'refs/tags/v2.3.1',
        env: { PATH: recorder.path }
      });
      expect(run.status).not.toBe(0);
      expect(run.stdout).toMatch(/::error::.*timed out after 3 s/);
      expect(await listTags(`${ns}/server`)).toEqual([]);
      expect(run.outputs.pushed).toBe('false');
      expect(docker(['ps', '--all', '--filter', 'name=gdp-smoke-', '--quiet']).out.trim()).toBe('');
      // main had logged in (a release pushes): post logs out and removes the temporary config.
      const state = JSON.parse(run.state.gdpState ?? '{}') as { dockerConfig?: string; registries?: string[] };
      expect(state.registries).toEqual([REGISTRY]);
      expect(run.post?.status).toBe(0);
      // The login went into the action's own config, post logged out of that config, then removed it.
      const config = state.dockerConfig ?? '';
      expect(config).not.toBe('');
      expect(recorder.calls().filter((c) => /^(login|logout) /.test(c.args))).toEqual([
        { config, args: `login --username=${REGISTRY_USER} --password-stdin ${REGISTRY}` },
        { config, args: `logout ${REGISTRY}` }
      ]);
      expect(existsSync(config)).toBe(false);
      expect(runnerSnapshot()).toEqual(before);
    },
    10 * MINUTES
  );

  it(
    'a builder whose start fails (its BuildKit image cannot be pulled): post removes it',
    async () => {
      // A docker on PATH that gives `buildx create` an image no registry has: the builder is
      // registered, then its bootstrap fails, as with a BuildKit image that cannot be pulled.
      const dir = mkdtempSync(join(tmpdir(), 'gdp-nobuildkit-'));
      const real = execFileSync('sh', ['-c', 'command -v docker'], { encoding: 'utf8' }).trim();
      writeFileSync(
        join(dir, 'docker'),
        `#!/bin/sh\nif [ "$1" = buildx ] && [ "$2" = create ]; then shift 2; exec ${real} buildx create --driver-opt=image=127.0.0.1:9/gdp/no-buildkit:none "$@"; fi\nexec ${real} "$@"\n`,
        { mode: 0o755 }
      );
      const run = await runAction({
        inputs: { ...one, images: `- name: ${REGISTRY}/x/server`, builder: 'docker-container', push: 'false' },
        event: 'release-published.json',
        eventName: 'release',
        ref: 'refs/tags/v2.3.1',
        env: { PATH: `${dir}:${process.env.PATH ?? ''}` }
      });
      expect(run.status).not.toBe(0);
      const state = JSON.parse(run.state.gdpState ?? '{}') as { builders?: string[]; dockerConfig?: string };
      expect(state.builders).toEqual([expect.stringMatching(/^go-docker-publish-/)]);
      expect(run.post?.stdout).toContain(`Removed builder ${state.builders?.[0] ?? 'none'}`);
      expect(state.dockerConfig && existsSync(state.dockerConfig)).toBe(false);
      expect(runnerSnapshot()).toEqual(before);
    },
    10 * MINUTES
  );
});

describe('the cache service fails', () => {
  let cache: CacheServer;
  beforeAll(async () => {
    cache = await startCacheServer();
    cache.failWith = 503;
  });
  afterAll(async () => {
    await cache?.close();
  });

  it.each([
    ['answers 503', (): Record<string, string> => cache.env('v2')],
    ['is unreachable', (): Record<string, string> => ({ ...cache.env('v2'), ACTIONS_RESULTS_URL: 'http://127.0.0.1:9/' })]
  ])(
    '%s: the build succeeds, the cache errors are warnings, and the summary says the cache was not saved',
    async (_what, env) => {
      const ns = uniqueRepo('cachefault');
      const run = await runAction({
        inputs: {
          ...one,
          cache: 'gha',
          images: `- name: ${REGISTRY}/${ns}/server\n  smoke: ["--version"]`,
          ...localPublishInputs(),
          push: 'false'
        },
        event: 'release-published.json',
        eventName: 'release',
        ref: 'refs/tags/v2.3.1',
        env: env()
      });
      expect(run.status === 0 ? '' : failedBecause(run)).toBe('');
      expect(run.stdout).toContain('Cache: gha, through the cache service v2');
      expect(run.stdout).toMatch(/::warning::.*the build cache was not saved/);
      expect(run.summary).toMatch(/cache not saved \(the cache service failed\)/);
      expect((JSON.parse(run.outputs.images ?? '[]') as { smoke: string }[])[0]?.smoke).toBe('passed');
      expect(run.post?.status).toBe(0);
    },
    10 * MINUTES
  );
});
