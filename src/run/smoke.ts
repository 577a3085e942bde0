// Smoke tests: before anything is pushed, each platform to test is loaded on its own (the classic
// image store holds one platform of an image at a time; the first one is built by its load, ahead
// of the rest of the image: build-and-smoke.ts) and runs detached, watched until it passes
// (plan/smoke.ts decides: exit 0, a server still up, a healthy HEALTHCHECK, an HTTP answer) or
// fails; the container and the image's local tag (this job's own) are removed either way, and the
// test's log is one group. The image ID that ran is kept: push.ts checks that the registry's
// manifest for that platform is that image. A failure names the image, the platform, the exit code
// or what it waited for, and the last lines of output.
import { join } from 'node:path';
import * as core from '@actions/core';
import {
  containerStateArgs,
  imageIdArgs,
  loadArgs,
  logsArgs,
  portArgs,
  removeContainerArgs,
  removeImageArgs,
  smokeRunArgs
} from '../plan/commands/containers.js';
import { partDriver, partOf, rewritesTimestamps, type BuildPart } from '../plan/parts.js';
import {
  parseState,
  publishedPort,
  smokeRef,
  smokeVerdict,
  waitsFor,
  type ContainerState,
  type EnabledSmoke,
  type SmokeObservation,
  type SmokeVerdict
} from '../plan/smoke.js';
import type { Plan, PlannedImage } from '../plan/types.js';
import { exportPart, type Builders } from './build.js';
import { LogGroup } from './log-group.js';
import { lastLines, type Runner } from './runner.js';

export type SmokeStatus = 'passed' | 'skipped' | 'failed';

export interface SmokeResult {
  image: string;
  platform: string;
  status: SmokeStatus;
  exitCode?: number;
  output: string;
  reason?: string;
  /** The engine's ID of the image that ran: its config digest (classic store) or manifest digest (containerd store). */
  imageId?: string;
  /** Why it passed, in words ("exited with code 0", "its HEALTHCHECK reported healthy", …): the smoke-test attestation says it. */
  passedBy?: string;
  /** Its HEALTHCHECK's last status, when the image has one. */
  health?: string;
}

/**
 * Loads one platform of an image into the runner's engine under smokeRef, a tag of this job's own
 * (from a node's builder as a tar, then `docker load`), and returns the engine's ID of it and the build log. `first`: the
 * platform is built by this load, before the rest of the image (with the layer cache to read).
 * `key` keeps the files of images that load at the same time apart.
 */
export async function loadPlatform(
  plan: Plan,
  img: PlannedImage,
  parts: BuildPart[],
  platform: string,
  builders: Builders,
  runner: Runner,
  o: { tmp: string; key: string; first: boolean; cacheAvailable: boolean; runId: string }
): Promise<{ imageId: string; log: string }> {
  const part = { ...partOf(parts, platform), platforms: [platform] };
  const name = smokeRef(img, o.runId);
  const file = join(o.tmp, `load-${o.key}-${platform.replace(/\//g, '-')}`);
  const dest = part.node ? `${file}.tar` : undefined;
  const rewriteTimestamp = rewritesTimestamps(img, partDriver(part, builders.runner.driver));
  const output = { type: 'load' as const, name, dest, rewriteTimestamp };
  const what = o.first ? 'Build and load' : 'Load';
  const { result } = await exportPart(plan, img, part, builders.runner.name, output, `${file}.json`, runner, o.cacheAvailable, what);
  if (dest) await runner.docker(loadArgs(dest), { silent: true });
  const imageId = (await runner.docker(imageIdArgs(name), { silent: true })).stdout.trim();
  return { imageId, log: `${result.stdout}\n${result.stderr}` };
}

/** Time and HTTP, injected so unit tests run the watch loop without waiting or a network. */
export interface SmokeProbe {
  now(): number; // milliseconds
  sleep(ms: number): Promise<void>;
  /** The status of an HTTP GET, undefined when nothing answers. */
  httpStatus(url: string): Promise<number | undefined>;
}

export const realProbe: SmokeProbe = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
  async httpStatus(url) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000), redirect: 'manual' });
      await res.body?.cancel();
      return res.status;
    } catch {
      return undefined;
    }
  }
};

/**
 * The watch looks again after 50 ms, then twice as late each time, at most every half second: a
 * CLI's `--version` passes in a tenth of a second (the pushes wait for it), a server is not polled hard.
 */
const FIRST_POLL_MS = 50;
const POLL_MS = 500;

/**
 * Runs one platform of an image detached and watches it (smokeVerdict) until it passes, fails or
 * times out; then shows the last lines of its log and removes it, whatever happened.
 */
export async function smokeImage(
  img: PlannedImage,
  platform: string,
  runner: Runner,
  runId: string,
  load: () => Promise<string>,
  probe: SmokeProbe = realProbe,
  dryRun = false
): Promise<SmokeResult> {
  const ref = smokeRef(img, runId);
  if (!img.smoke.enabled) {
    core.warning(`Smoke test of ${img.name} is off (smoke: false)`);
    return { image: img.name, platform, status: 'skipped', output: '' };
  }
  const smoke = img.smoke;
  const imageId = await load();
  const name = `gdp-smoke-${runId}-${Math.random().toString(36).slice(2, 10)}`;
  const base = { image: img.name, platform, imageId };
  // Written at once when the test ends: smoke tests of other images run at the same time.
  const group = new LogGroup(`Smoke test ${img.refs[0] ?? img.name} on ${platform}`);
  group.info(`Waiting for ${waitsFor(smoke)}, at most ${smoke.timeoutSeconds} s`);
  try {
    const started = probe.now();
    const run = await runner.docker(smokeRunArgs(ref, platform, smoke, name), { silent: true, allowFailure: true });
    if (`${run.stdout}${run.stderr}`.trim()) group.info(`${run.stdout}${run.stderr}`.trim());
    if (run.exitCode !== 0) {
      const output = `${run.stdout}${run.stderr}`;
      return {
        ...base,
        status: 'failed',
        exitCode: run.exitCode,
        output,
        reason: `could not start (docker run exited with code ${run.exitCode})`
      };
    }
    if (dryRun) {
      // Nothing ran: a dry run records the commands of a run whose smoke tests pass.
      group.info(`Dry run: a real run watches it until it passes or fails`);
      return { ...base, status: 'passed', output: '' };
    }
    const result = await watch(smoke, name, runner, probe, started);
    const output = await logsOf(name, runner);
    group.info(`Last lines of its log:\n${lastLines(output, 20) || '(no output)'}`);
    const exitCode = result.state.status === 'exited' ? result.state.exitCode : undefined;
    if (result.verdict.passed) {
      group.info(`Passed: ${result.verdict.how}`);
      const health = result.state.health === undefined ? {} : { health: result.state.health };
      return { ...base, status: 'passed', exitCode, output, passedBy: result.verdict.how, ...health };
    }
    const health = result.state.healthOutput ? `\nLast HEALTHCHECK output: ${result.state.healthOutput}` : '';
    return { ...base, status: 'failed', exitCode, output: output + health, reason: result.verdict.reason };
  } finally {
    await runner.docker(removeContainerArgs(name), { silent: true, allowFailure: true });
    // The tested image's ID is kept above; its local tag goes, so nothing of the test stays in the engine.
    await runner.docker(removeImageArgs(ref), { silent: true, allowFailure: true });
    group.write();
  }
}

/** A container's stdout+stderr so far. */
async function logsOf(name: string, runner: Runner): Promise<string> {
  const r = await runner.docker(logsArgs(name), { silent: true, allowFailure: true });
  return `${r.stdout}${r.stderr}`;
}

async function watch(
  smoke: EnabledSmoke,
  name: string,
  runner: Runner,
  probe: SmokeProbe,
  started: number
): Promise<{ verdict: Extract<SmokeVerdict, { done: true }>; state: ContainerState }> {
  let hostPort: number | undefined;
  let delay = FIRST_POLL_MS;
  for (;;) {
    const inspected = await runner.docker(containerStateArgs(name), { silent: true });
    const state = parseState(inspected.stdout);
    let httpStatus: number | undefined;
    if (smoke.wait.kind === 'http' && state.status === 'running') {
      hostPort ??= publishedPort((await runner.docker(portArgs(name, smoke.wait.port), { silent: true, allowFailure: true })).stdout);
      if (hostPort !== undefined) httpStatus = await probe.httpStatus(`http://127.0.0.1:${hostPort}${smoke.wait.path}`);
    }
    const output = smoke.expect === undefined ? '' : await logsOf(name, runner);
    const obs: SmokeObservation = { elapsedSeconds: (probe.now() - started) / 1000, state, output };
    if (httpStatus !== undefined) obs.httpStatus = httpStatus;
    const verdict = smokeVerdict(smoke, obs);
    if (verdict.done) return { verdict, state };
    await probe.sleep(delay);
    delay = Math.min(POLL_MS, delay * 2);
  }
}

export function smokeFailureMessage(failed: SmokeResult[]): string {
  return failed
    .map(
      (f) =>
        `Smoke test failed: image ${f.image}, platform ${f.platform}: ${f.reason ?? 'failed'}. Last lines of output:\n${lastLines(f.output, 20) || '(no output)'}`
    )
    .join('\n\n');
}
