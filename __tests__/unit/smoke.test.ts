import { describe, expect, it } from '@jest/globals';
import { parseState, publishedPort, smokeVerdict, type ContainerState, type EnabledSmoke } from '../../src/plan/smoke.js';
import { smokeImage, smokeFailureMessage, type SmokeProbe } from '../../src/run/smoke.js';
import type { PlannedImage, SmokeWait } from '../../src/plan/types.js';
import { FakeRunner } from '../support/fake-runner.js';

const spec = (wait: SmokeWait, over: Partial<EnabledSmoke> = {}): EnabledSmoke => ({
  enabled: true,
  args: [],
  env: {},
  timeoutSeconds: 30,
  wait,
  ...over
});
const UP: SmokeWait = { kind: 'up', seconds: 5 };
const EXIT: SmokeWait = { kind: 'exit' };
const HTTP: SmokeWait = { kind: 'http', port: 8080, path: '/healthz', status: 200 };

const running: ContainerState = { status: 'running', exitCode: 0, oomKilled: false };
const exited = (exitCode: number): ContainerState => ({ status: 'exited', exitCode, oomKilled: false });
const health = (h: string, out?: string): ContainerState => ({ ...running, health: h, ...(out ? { healthOutput: out } : {}) });

describe('smokeVerdict', () => {
  it.each<[string, EnabledSmoke, ContainerState, number, { output?: string; httpStatus?: number }, string]>([
    // The image's own command (up): exit 0, still up after up-seconds, or a healthy HEALTHCHECK.
    ['a CLI image exits 0', spec(UP), exited(0), 0.4, {}, 'pass: exited with code 0'],
    ['a server not up long enough yet', spec(UP), running, 4.9, {}, 'wait'],
    ['a server still up after up-seconds', spec(UP), running, 5, {}, 'pass: still running after 5 s'],
    ['a server that crashed after 1 s', spec(UP), exited(2), 1.2, {}, 'fail: exited with code 2'],
    ['killed for memory', spec(UP), { ...exited(137), oomKilled: true }, 1, {}, 'fail: exited with code 137 (killed: out of memory)'],
    ['HEALTHCHECK starting: up-seconds does not count', spec(UP), health('starting'), 12, {}, 'wait'],
    ['HEALTHCHECK healthy', spec(UP), health('healthy'), 2, {}, 'pass: its HEALTHCHECK reported healthy'],
    ['HEALTHCHECK unhealthy', spec(UP), health('unhealthy', 'HTTP 503'), 4, {}, 'fail: its HEALTHCHECK reported unhealthy (HTTP 503)'],
    ['HEALTHCHECK never decides', spec(UP), health('starting'), 30, {}, 'fail: its HEALTHCHECK was still "starting" after 30 s'],
    ['expect waits for its line', spec(UP, { expect: 'ready' }), running, 8, { output: 'booting\n' }, 'wait'],
    [
      'expect matched after up-seconds',
      spec(UP, { expect: 'ready' }),
      running,
      8,
      { output: 'ready on :8080\n' },
      'pass: still running after 5 s'
    ],
    [
      'expect never matched',
      spec(UP, { expect: 'ready' }),
      running,
      30,
      { output: 'booting\n' },
      'fail: its output does not match expect /ready/ within 30 s'
    ],
    // A command given (exit): only exit 0 passes.
    ['a command exits 0', spec(EXIT), exited(0), 1, {}, 'pass: exited with code 0'],
    ['a command still running', spec(EXIT), running, 29, {}, 'wait'],
    ['a command that hangs', spec(EXIT), running, 30, {}, 'fail: timed out after 30 s and was killed'],
    [
      'a command exits 0 without its line',
      spec(EXIT, { expect: '^v1' }),
      exited(0),
      1,
      { output: 'v2\n' },
      'fail: exited with code 0, but its output does not match expect /^v1/'
    ],
    ['a command fails', spec(EXIT), exited(3), 1, {}, 'fail: exited with code 3'],
    // http: only the right answer passes; a healthy HEALTHCHECK is not enough, an unhealthy one fails.
    ['http: nothing answers yet', spec(HTTP), running, 3, {}, 'wait'],
    ['http: a 503 while starting', spec(HTTP), running, 3, { httpStatus: 503 }, 'wait'],
    ['http: the right status', spec(HTTP), running, 3, { httpStatus: 200 }, 'pass: port 8080 answered 200 on /healthz'],
    ['http: healthy but not answering', spec(HTTP), health('healthy'), 3, {}, 'wait'],
    ['http: unhealthy', spec(HTTP), health('unhealthy'), 3, {}, 'fail: its HEALTHCHECK reported unhealthy'],
    ['http: never answers', spec(HTTP), running, 30, {}, 'fail: port 8080 did not answer 200 on /healthz within 30 s (nothing answered)'],
    [
      'http: wrong status to the end',
      spec(HTTP),
      running,
      31,
      { httpStatus: 404 },
      'fail: port 8080 did not answer 200 on /healthz within 30 s (it answered 404)'
    ],
    ['http: exits 0 before answering', spec(HTTP), exited(0), 2, {}, 'fail: exited with code 0 before port 8080 answered'],
    ['http: crashes', spec(HTTP), exited(1), 1, {}, 'fail: exited with code 1'],
    ['http: answers, expect not yet matched', spec(HTTP, { expect: 'listening' }), running, 2, { httpStatus: 200, output: '' }, 'wait'],
    [
      'http: answers and expect matched',
      spec(HTTP, { expect: 'listening' }),
      running,
      2,
      { httpStatus: 200, output: 'listening on :8080' },
      'pass: port 8080 answered 200 on /healthz'
    ]
  ])('%s', (_, s, state, elapsedSeconds, extra, want) => {
    const v = smokeVerdict(s, {
      state,
      elapsedSeconds,
      output: extra.output ?? '',
      ...(extra.httpStatus ? { httpStatus: extra.httpStatus } : {})
    });
    expect(!v.done ? 'wait' : v.passed ? `pass: ${v.how}` : `fail: ${v.reason}`).toBe(want);
  });
});

describe('container state and ports', () => {
  it('reads docker inspect .State as the engine writes it', () => {
    const json =
      '{"Status":"running","Running":true,"Paused":false,"Restarting":false,"OOMKilled":false,"Dead":false,"Pid":4242,"ExitCode":0,' +
      '"Error":"","StartedAt":"2026-11-23T19:00:00.1Z","FinishedAt":"0001-01-01T00:00:00Z","Health":{"Status":"unhealthy","FailingStreak":3,' +
      '"Log":[{"Start":"x","End":"y","ExitCode":1,"Output":"probe: 503\\n"},{"Start":"x","End":"y","ExitCode":1,"Output":"probe: 503 Service Unavailable\\n"}]}}';
    expect(parseState(json)).toEqual({
      status: 'running',
      exitCode: 0,
      oomKilled: false,
      health: 'unhealthy',
      healthOutput: 'probe: 503 Service Unavailable'
    });
    expect(parseState('{"Status":"exited","ExitCode":2,"OOMKilled":false}')).toEqual({ status: 'exited', exitCode: 2, oomKilled: false });
  });
  it('finds the loopback port docker port prints', () => {
    expect(publishedPort('127.0.0.1:32771\n')).toBe(32771);
    expect(publishedPort('')).toBeUndefined();
  });
});

/** A clock that moves only when the watch loop sleeps, and an HTTP server that answers from a script. */
function fakeProbe(answer: (seconds: number) => number | undefined): SmokeProbe & { urls: string[] } {
  let t = 0;
  const urls: string[] = [];
  return {
    urls,
    now: () => t,
    sleep: async (ms) => {
      t += ms;
    },
    httpStatus: async (url) => {
      urls.push(url);
      return answer(t / 1000);
    }
  };
}

const image = (smoke: EnabledSmoke): PlannedImage =>
  ({
    name: 'ghcr.io/o/api',
    repositories: ['ghcr.io/o/api'],
    refs: ['ghcr.io/o/api:v1.0.0'],
    platforms: ['linux/amd64', 'linux/arm64'],
    smoke
  }) as unknown as PlannedImage;

/** An engine where the container's state, at each look, comes from a script keyed by the fake clock. */
function engine(state: (seconds: number) => string, probe: { now(): number }, logs = 'listening on :8080\n'): FakeRunner {
  return new FakeRunner((args) => {
    if (args[0] === 'run') return { stdout: 'cid\n' };
    if (args[0] === 'container' && args[1] === 'inspect') return { stdout: state(probe.now() / 1000) };
    if (args[0] === 'port') return { stdout: '127.0.0.1:49160\n' };
    if (args[0] === 'logs') return { stdout: logs };
    return {};
  });
}

describe('smokeImage watches a detached container', () => {
  const RUNNING = '{"Status":"running","ExitCode":0}';

  it("http: runs the job's own local tag, publishes the port on loopback, probes the host port until the status comes, then removes the container and the tag", async () => {
    const probe = fakeProbe((s) => (s < 2 ? undefined : s < 3 ? 503 : 200));
    const r = engine(() => RUNNING, probe);
    const res = await smokeImage(image(spec(HTTP)), 'linux/arm64', r, '7', async () => 'sha256:abc', probe);
    expect(res).toMatchObject({ status: 'passed', platform: 'linux/arm64', imageId: 'sha256:abc', output: 'listening on :8080\n' });
    const run = r.calls.find((c) => c[0] === 'run') ?? [];
    expect(run).toContain('--publish=127.0.0.1::8080');
    expect(run).toContain('--detach');
    expect(new Set(probe.urls)).toEqual(new Set(['http://127.0.0.1:49160/healthz']));
    // After 0.05, 0.15, 0.35 s, then every half second until 3 s.
    expect(probe.urls.length).toBe(10);
    expect(run.at(-1)).toBe('ghcr.io/o/api:gdp-smoke-7');
    const name = run.find((a) => a.startsWith('--name='))?.slice(7);
    expect(r.calls.slice(-2)).toEqual([
      ['rm', '--force', '--volumes', name],
      ['image', 'rm', 'ghcr.io/o/api:gdp-smoke-7']
    ]);
  });

  it('a server that crashes after 1 s fails with its exit code and output; its container is removed', async () => {
    const probe = fakeProbe(() => undefined);
    const r = engine((s) => (s < 1 ? RUNNING : '{"Status":"exited","ExitCode":2}'), probe, 'panic: crash on purpose\n');
    const res = await smokeImage(image(spec(UP)), 'linux/amd64', r, '7', async () => 'sha256:abc', probe);
    expect(res).toMatchObject({ status: 'failed', exitCode: 2, reason: 'exited with code 2' });
    expect(smokeFailureMessage([res])).toBe(
      'Smoke test failed: image ghcr.io/o/api, platform linux/amd64: exited with code 2. Last lines of output:\npanic: crash on purpose'
    );
    expect(r.calls.at(-2)?.slice(0, 2)).toEqual(['rm', '--force']);
  });

  it('a port that never answers fails at the timeout naming the port, with the last log lines', async () => {
    const probe = fakeProbe(() => undefined);
    const r = engine(() => RUNNING, probe, 'starting\nbound to :9999 instead\n');
    const res = await smokeImage(image(spec(HTTP, { timeoutSeconds: 4 })), 'linux/arm64', r, '7', async () => 'sha256:abc', probe);
    expect(smokeFailureMessage([res])).toBe(
      'Smoke test failed: image ghcr.io/o/api, platform linux/arm64: port 8080 did not answer 200 on /healthz within 4 s (nothing answered). ' +
        'Last lines of output:\nstarting\nbound to :9999 instead'
    );
    expect(r.calls.at(-2)?.slice(0, 2)).toEqual(['rm', '--force']);
  });

  it('a container that cannot start fails with what docker run said, and is still removed', async () => {
    const probe = fakeProbe(() => undefined);
    const r = new FakeRunner((args) =>
      args[0] === 'run' ? { exitCode: 127, stderr: 'exec: "/nope": stat /nope: no such file or directory\n' } : {}
    );
    const res = await smokeImage(image(spec(EXIT, { entrypoint: '/nope' })), 'linux/amd64', r, '7', async () => 'sha256:abc', probe);
    expect(res).toMatchObject({ status: 'failed', exitCode: 127, reason: 'could not start (docker run exited with code 127)' });
    expect(res.output).toContain('no such file or directory');
    expect(r.calls.map((c) => c.slice(0, 2).join(' '))).toEqual(['run --detach', 'rm --force', 'image rm']);
  });

  it('an unhealthy HEALTHCHECK fails and its probe output is shown', async () => {
    const probe = fakeProbe(() => undefined);
    const state = (s: number) =>
      JSON.stringify({
        Status: 'running',
        ExitCode: 0,
        Health: { Status: s < 3 ? 'starting' : 'unhealthy', Log: [{ Output: 'healthz: 503' }] }
      });
    const r = engine(state, probe);
    const res = await smokeImage(image(spec(UP)), 'linux/amd64', r, '7', async () => 'sha256:abc', probe);
    expect(res.reason).toBe('its HEALTHCHECK reported unhealthy (healthz: 503)');
    expect(res.output).toContain('Last HEALTHCHECK output: healthz: 503');
  });
});
