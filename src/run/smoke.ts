// Smoke tests: every image runs (docker run --rm) before anything is pushed. A timeout kills the
// container; a failure names the image, the platform, the exit code and the last lines of output.
import * as core from '@actions/core';
import { smokeRunArgs } from '../plan/commands.js';
import type { PlannedImage } from '../plan/types.js';
import { archOf } from '../plan/platforms.js';
import { nodeArch } from './qemu.js';
import { lastLines, type Runner } from './runner.js';

export type SmokeStatus = 'passed' | 'skipped' | 'failed';

export interface SmokeResult {
  image: string;
  platform: string;
  status: SmokeStatus;
  exitCode?: number;
  output: string;
  reason?: string;
}

/** Pure: the platforms to smoke-test for an image. */
export function smokePlatforms(img: PlannedImage, mode: 'native' | 'all', hostArch: string): string[] {
  if (mode === 'all') return img.platforms;
  const native = img.platforms.find((p) => archOf(p) === hostArch);
  return [native ?? img.platforms[0] ?? `linux/${hostArch}`];
}

export async function smokeImage(img: PlannedImage, platform: string, runner: Runner, runId: string): Promise<SmokeResult> {
  const ref = img.refs[0] ?? img.name;
  if (!img.smoke.enabled) {
    core.warning(`Smoke test of ${img.name} is off (smoke: false)`);
    return { image: img.name, platform, status: 'skipped', output: '' };
  }
  const smoke = img.smoke;
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
  const base = { image: img.name, platform, exitCode: res.exitCode, output };
  if (timedOut) return { ...base, status: 'failed', reason: `timed out after ${smoke.timeoutSeconds} s and was killed` };
  if (res.exitCode !== 0) return { ...base, status: 'failed', reason: `exited with code ${res.exitCode}` };
  if (smoke.expect !== undefined && !new RegExp(smoke.expect).test(output)) {
    return { ...base, status: 'failed', reason: `output does not match expect /${smoke.expect}/` };
  }
  return { ...base, status: 'passed' };
}

export async function smokeAll(images: PlannedImage[], mode: 'native' | 'all', runner: Runner, runId: string): Promise<SmokeResult[]> {
  const results: SmokeResult[] = [];
  for (const img of images) {
    for (const p of smokePlatforms(img, mode, nodeArch())) results.push(await smokeImage(img, p, runner, runId));
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
