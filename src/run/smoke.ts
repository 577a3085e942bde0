// Smoke tests: before anything is pushed, each platform to test is loaded on its own from the
// builder's cache (the classic image store holds one platform of an image at a time) and runs
// detached, watched until it passes (plan/smoke.ts decides: exit 0, a server still up, a healthy
// HEALTHCHECK, an HTTP answer) or fails; the container is removed either way. The image ID that
// ran is kept: push.ts checks that the registry's manifest for that platform is that image. A
// failure names the image, the platform, the exit code or what it waited for, and the last lines
// of output.
import { join } from 'node:path';
import * as core from '@actions/core';
import {
  containerStateArgs,
  imageIdArgs,
  loadArgs,
  logsArgs,
  portArgs,
  removeContainerArgs,
  smokeRunArgs
} from '../plan/commands/containers.js';
import { partDriver, partOf, rewritesTimestamps } from '../plan/parts.js';
import {
  parseState,
  publishedPort,
  smokePlatforms,
  smokeRef,
  smokeVerdict,
  waitsFor,
  type ContainerState,
  type EnabledSmoke,
  type SmokeObservation,
  type SmokeVerdict
} from '../plan/smoke.js';
import type { Plan, PlannedImage } from '../plan/types.js';
import { nodeArch } from './qemu.js';
import { exportPart, type BuildResult, type Builders } from './build.js';
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
 * Loads one platform of a built image into the runner's engine under smokeRef (from a node's
 * builder as a tar, then `docker load`) and returns the engine's ID of it.
 */
export async function loadPlatform(
  plan: Plan,
  build: BuildResult,
  platform: string,
  builders: Builders,
  runner: Runner,
  tmp: string
): Promise<string> {
  const img = build.image;
  const part = { ...partOf(build.parts, platform), platforms: [platform] };
  const name = smokeRef(img);
  const dest = part.node ? join(tmp, 'load.tar') : undefined;
  const rewriteTimestamp = rewritesTimestamps(img, partDriver(part, builders.runner.driver));
  await exportPart(plan, img, part, builders.runner.name, { type: 'load', name, dest, rewriteTimestamp }, join(tmp, 'load.json'), runner);
  if (dest) await runner.docker(loadArgs(dest), { silent: true });
  return (await runner.docker(imageIdArgs(name), { silent: true })).stdout.trim();
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
  const ref = smokeRef(img);
  if (!img.smoke.enabled) {
    core.warning(`Smoke test of ${img.name} is off (smoke: false)`);
    return { image: img.name, platform, status: 'skipped', output: '' };
  }
  const smoke = img.smoke;
  const imageId = await load();
  const name = `gdp-smoke-${runId}-${Math.random().toString(36).slice(2, 10)}`;
  const base = { image: img.name, platform, imageId };
  return core.group(`Smoke test ${ref} on ${platform}`, async () => {
    core.info(`Waiting for ${waitsFor(smoke)}, at most ${smoke.timeoutSeconds} s`);
    try {
      const started = probe.now();
      const run = await runner.docker(smokeRunArgs(ref, platform, smoke, name), { allowFailure: true });
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
        core.info(`Dry run: a real run watches it until it passes or fails`);
        return { ...base, status: 'passed', output: '' };
      }
      const result = await watch(smoke, name, runner, probe, started);
      const output = await logsOf(name, runner);
      core.info(`Last lines of its log:\n${lastLines(output, 20) || '(no output)'}`);
      const exitCode = result.state.status === 'exited' ? result.state.exitCode : undefined;
      if (result.verdict.passed) {
        core.info(`Passed: ${result.verdict.how}`);
        const health = result.state.health === undefined ? {} : { health: result.state.health };
        return { ...base, status: 'passed', exitCode, output, passedBy: result.verdict.how, ...health };
      }
      const health = result.state.healthOutput ? `\nLast HEALTHCHECK output: ${result.state.healthOutput}` : '';
      return { ...base, status: 'failed', exitCode, output: output + health, reason: result.verdict.reason };
    } finally {
      await runner.docker(removeContainerArgs(name), { silent: true, allowFailure: true });
    }
  });
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
    await probe.sleep(POLL_MS);
  }
}

export async function smokeAll(
  plan: Plan,
  builds: BuildResult[],
  builders: Builders,
  runner: Runner,
  runId: string,
  tmp: string,
  o: { probe?: SmokeProbe; dryRun?: boolean } = {}
): Promise<SmokeResult[]> {
  const results: SmokeResult[] = [];
  for (const build of builds) {
    for (const p of smokePlatforms(build.image, plan.smokePlatforms, nodeArch())) {
      const load = (): Promise<string> => loadPlatform(plan, build, p, builders, runner, tmp);
      results.push(await smokeImage(build.image, p, runner, runId, load, o.probe, o.dryRun));
    }
  }
  return results;
}

export function smokeFailureMessage(failed: SmokeResult[]): string {
  return failed
    .map(
      (f) =>
        `Smoke test failed: image ${f.image}, platform ${f.platform}: ${f.reason ?? 'failed'}. Last lines of output:\n${lastLines(f.output, 20) || '(no output)'}`
    )
    .join('\n\n');
}
