// Smoke tests: before anything is pushed, each platform to test is loaded on its own from the
// builder's cache (the classic image store holds one platform of an image at a time) and runs
// (docker run --rm). The image ID that ran is kept: push.ts checks that the registry's manifest
// for that platform is that image. A timeout kills the container; a failure names the image, the
// platform, the exit code and the last lines of output.
import { join } from 'node:path';
import * as core from '@actions/core';
import { smokeRunArgs } from '../plan/commands.js';
import type { Plan, PlannedImage } from '../plan/types.js';
import { archOf } from '../plan/platforms.js';
import { nodeArch } from './qemu.js';
import { exportPart, partDriver, partOf, rewritesTimestamps, type BuildResult, type Builders } from './build.js';
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
}

/** Pure: the platforms to smoke-test for an image. */
export function smokePlatforms(img: PlannedImage, mode: 'native' | 'all', hostArch: string): string[] {
  if (mode === 'all') return img.platforms;
  const native = img.platforms.find((p) => archOf(p) === hostArch);
  return [native ?? img.platforms[0] ?? `linux/${hostArch}`];
}

/** The name a smoke-tested platform is loaded under: the image's first tag. */
export const smokeRef = (img: PlannedImage): string => img.refs[0] ?? img.name;

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
  if (dest) await runner.docker(['load', `--input=${dest}`], { silent: true });
  return (await runner.docker(['image', 'inspect', '--format={{.Id}}', name], { silent: true })).stdout.trim();
}

export async function smokeImage(
  img: PlannedImage,
  platform: string,
  runner: Runner,
  runId: string,
  load: () => Promise<string>
): Promise<SmokeResult> {
  const ref = smokeRef(img);
  if (!img.smoke.enabled) {
    core.warning(`Smoke test of ${img.name} is off (smoke: false)`);
    return { image: img.name, platform, status: 'skipped', output: '' };
  }
  const smoke = img.smoke;
  const imageId = await load();
  const name = `gdp-smoke-${runId}-${Math.random().toString(36).slice(2, 10)}`;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void runner.docker(['rm', '--force', name], { silent: true, allowFailure: true });
  }, smoke.timeoutSeconds * 1000);
  let res;
  try {
    res = await core.group(`Smoke test ${ref} on ${platform}`, () =>
      runner.docker(smokeRunArgs(ref, platform, smoke, name), { allowFailure: true })
    );
  } finally {
    clearTimeout(timer);
  }
  const output = `${res.stdout}${res.stderr}`;
  const base = { image: img.name, platform, exitCode: res.exitCode, output, imageId };
  if (timedOut) return { ...base, status: 'failed', reason: `timed out after ${smoke.timeoutSeconds} s and was killed` };
  if (res.exitCode !== 0) return { ...base, status: 'failed', reason: `exited with code ${res.exitCode}` };
  if (smoke.expect !== undefined && !new RegExp(smoke.expect).test(output)) {
    return { ...base, status: 'failed', reason: `output does not match expect /${smoke.expect}/` };
  }
  return { ...base, status: 'passed' };
}

export async function smokeAll(
  plan: Plan,
  builds: BuildResult[],
  builders: Builders,
  runner: Runner,
  runId: string,
  tmp: string
): Promise<SmokeResult[]> {
  const results: SmokeResult[] = [];
  for (const build of builds) {
    for (const p of smokePlatforms(build.image, plan.smokePlatforms, nodeArch())) {
      results.push(await smokeImage(build.image, p, runner, runId, () => loadPlatform(plan, build, p, builders, runner, tmp)));
    }
  }
  return results;
}

export function smokeFailureMessage(failed: SmokeResult[]): string {
  return failed
    .map(
      (f) =>
        `Smoke test failed: image ${f.image}, platform ${f.platform}, exit code ${f.exitCode ?? 'none'} (${f.reason ?? 'failed'}). Last lines of output:\n${lastLines(f.output, 20) || '(no output)'}`
    )
    .join('\n\n');
}
