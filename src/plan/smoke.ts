// Smoke tests, pure: which platforms of an image are tested and under which name it is loaded, and
// whether a test's container has passed, failed, or must be watched a little longer, from what
// `docker inspect` says of it, its output so far and the last HTTP answer.
import type { SmokeSpec } from './types.js';

export type EnabledSmoke = Extract<SmokeSpec, { enabled: true }>;

/** One look at the container. */
export interface SmokeObservation {
  /** Seconds since the container was started. */
  elapsedSeconds: number;
  /** From `docker inspect --format={{json .State}}`. */
  state: ContainerState;
  /** stdout+stderr so far (read when `expect` is given, and at the end). */
  output: string;
  /** The status of the last HTTP GET (http), undefined while nothing answers. */
  httpStatus?: number;
}

export interface ContainerState {
  status: string; // created, running, restarting, exited, dead, ...
  exitCode: number;
  oomKilled: boolean;
  /** The HEALTHCHECK's status (starting, healthy, unhealthy) when the image has one. */
  health?: string;
  /** The output of the HEALTHCHECK's last probe. */
  healthOutput?: string;
}

export type SmokeVerdict = { done: false } | { done: true; passed: true; how: string } | { done: true; passed: false; reason: string };

const WAIT: SmokeVerdict = { done: false };

/** Parses `docker inspect --format={{json .State}}`. */
export function parseState(json: string): ContainerState {
  const s = JSON.parse(json) as {
    Status?: string;
    ExitCode?: number;
    OOMKilled?: boolean;
    Health?: { Status?: string; Log?: { Output?: string }[] } | null;
  };
  const state: ContainerState = { status: s.Status ?? 'unknown', exitCode: s.ExitCode ?? 0, oomKilled: s.OOMKilled === true };
  if (s.Health?.Status) {
    state.health = s.Health.Status;
    const last = s.Health.Log?.at(-1)?.Output?.trim();
    if (last) state.healthOutput = last;
  }
  return state;
}

export function smokeVerdict(spec: EnabledSmoke, obs: SmokeObservation): SmokeVerdict {
  const state = obs.state;
  const wait = spec.wait;
  const expectOk = spec.expect === undefined || new RegExp(spec.expect).test(obs.output);
  const noMatch = `its output does not match expect /${spec.expect ?? ''}/`;

  if (state.status === 'exited' || state.status === 'dead') {
    if (state.exitCode !== 0) return fail(`exited with code ${state.exitCode}${state.oomKilled ? ' (killed: out of memory)' : ''}`);
    if (wait.kind === 'http') return fail(`exited with code 0 before port ${wait.port} answered`);
    return expectOk ? pass('exited with code 0') : fail(`exited with code 0, but ${noMatch}`);
  }
  if (state.health === 'unhealthy') {
    return fail(`its HEALTHCHECK reported unhealthy${state.healthOutput ? ` (${state.healthOutput})` : ''}`);
  }
  const running = state.status === 'running';
  if (running && expectOk) {
    if (wait.kind === 'http' && obs.httpStatus === wait.status) return pass(`port ${wait.port} answered ${wait.status} on ${wait.path}`);
    if (wait.kind === 'up' && state.health === 'healthy') return pass('its HEALTHCHECK reported healthy');
    if (wait.kind === 'up' && state.health === undefined && obs.elapsedSeconds >= wait.seconds) {
      return pass(`still running after ${wait.seconds} s`);
    }
  }
  if (obs.elapsedSeconds < spec.timeoutSeconds) return WAIT;

  const within = `within ${spec.timeoutSeconds} s`;
  if (wait.kind === 'http' && obs.httpStatus !== wait.status) {
    const got = obs.httpStatus === undefined ? 'nothing answered' : `it answered ${obs.httpStatus}`;
    return fail(`port ${wait.port} did not answer ${wait.status} on ${wait.path} ${within} (${got})`);
  }
  if (wait.kind === 'up' && state.health !== undefined && state.health !== 'healthy') {
    return fail(`its HEALTHCHECK was still "${state.health}" after ${spec.timeoutSeconds} s`);
  }
  if (!expectOk && (wait.kind !== 'exit' || !running)) return fail(`${noMatch} ${within}`);
  if (!running) return fail(`the container is "${state.status}", not running, after ${spec.timeoutSeconds} s`);
  return fail(`timed out after ${spec.timeoutSeconds} s and was killed`);
}

const pass = (how: string): SmokeVerdict => ({ done: true, passed: true, how });
const fail = (reason: string): SmokeVerdict => ({ done: true, passed: false, reason });

/** The host port of `docker port NAME PORT/tcp` ("127.0.0.1:32768"), undefined when none. */
export function publishedPort(stdout: string): number | undefined {
  for (const line of stdout.split('\n')) {
    const m = /^127\.0\.0\.1:(\d+)$/.exec(line.trim());
    if (m?.[1]) return Number(m[1]);
  }
  return undefined;
}

/** What a smoke test waits for, in words. */
export function waitsFor(smoke: EnabledSmoke): string {
  const w = smoke.wait;
  const expect = smoke.expect === undefined ? '' : `, with output matching /${smoke.expect}/`;
  if (w.kind === 'exit') return `exit code 0${expect}`;
  if (w.kind === 'http') return `HTTP ${w.status} from GET ${w.path} on port ${w.port}${expect}`;
  return `exit code 0, a healthy HEALTHCHECK, or still running after ${w.seconds} s${expect}`;
}

/** The platforms to smoke-test for an image: the runner's own (native), or all of them. */
export function smokePlatforms(img: { platforms: string[] }, mode: 'native' | 'all', hostArch: string): string[] {
  if (mode === 'all') return img.platforms;
  const native = img.platforms.find((p) => p.split('/')[1] === hostArch);
  return [native ?? img.platforms[0] ?? `linux/${hostArch}`];
}

/**
 * The name a smoke-tested platform is loaded under in the runner's engine: a tag of the image's
 * first repository that is this job's own (`runId` holds the job's instance), so two jobs sharing
 * an engine never load over each other's image; the smoke phase removes it after the test.
 */
export const smokeRef = (img: { repositories: string[]; name: string }, runId: string): string =>
  `${img.repositories[0] ?? img.name}:gdp-smoke-${runId}`;
