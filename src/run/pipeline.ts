// The publish pipeline: qemu → builder → login → build → smoke → push, each phase given the plan
// and the runner. Nothing is pushed unless every smoke test passed.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as core from '@actions/core';
import type { Plan } from '../plan/types.js';
import { planOutcomes, type ImageOutcome } from '../report.js';
import { setupBuilder } from './builder.js';
import { buildImages } from './build.js';
import { login } from './login.js';
import { pushImage } from './push.js';
import { setupQemu } from './qemu.js';
import type { Runner } from './runner.js';
import { smokeAll, smokeFailureMessage } from './smoke.js';

export interface PipelineHooks {
  /** Called as soon as something exists that post must undo. */
  loggedIn(registry: string): void;
  builderCreated(name: string): void;
}

export interface PipelineResult {
  images: ImageOutcome[];
  pushed: boolean;
  /** Refs actually pushed, also when the run failed half-way. */
  pushedRefs: string[];
  error?: Error;
}

export interface PipelineEnv {
  runId: string;
  /** True when ACTIONS_CACHE_URL and ACTIONS_RUNTIME_TOKEN are there for buildx's gha cache. */
  ghaCacheAvailable: boolean;
  tempDir?: string;
}

export async function runPipeline(plan: Plan, runner: Runner, hooks: PipelineHooks, env: PipelineEnv): Promise<PipelineResult> {
  const pushedRefs: string[] = [];
  const outcomes: ImageOutcome[] = planOutcomes(plan);
  const result: PipelineResult = { images: outcomes, pushed: false, pushedRefs };
  const tmp = mkdtempSync(join(env.tempDir ?? tmpdir(), 'gdp-run-'));
  try {
    const allPlatforms = [...new Set(plan.images.flatMap((i) => i.platforms))];
    await setupQemu(plan.qemu, allPlatforms, runner);
    const builder = await setupBuilder(plan.builder, runner, env.runId);
    if (builder.create) hooks.builderCreated(builder.name);
    const multi = plan.images.filter((i) => i.platforms.length > 1).map((i) => i.name);
    if (!builder.containerdStore && multi.length > 0) {
      // Smoke tests run, and the push sends, the image loaded into the engine's store; only the
      // containerd image store holds a multi-platform image.
      throw new Error(
        `${multi.join(', ')}: building for several platforms needs the Docker engine's containerd image store, which this engine does not use. ` +
          'Enable it before this step (daemon.json {"features":{"containerd-snapshotter":true}} and restart dockerd), or build one platform per image.'
      );
    }
    if (plan.push) await login(plan.registries, runner, hooks.loggedIn);

    let cacheAvailable = plan.cache !== 'none';
    if (plan.cache === 'gha' && !env.ghaCacheAvailable) {
      core.warning(
        'cache: gha, but ACTIONS_CACHE_URL or ACTIONS_RUNTIME_TOKEN is not set (not running on GitHub Actions?): building without a cache'
      );
      cacheAvailable = false;
    }
    const builds = await buildImages(plan, builder.name, runner, tmp, cacheAvailable);
    builds.forEach((b, i) => {
      const o = outcomes[i];
      if (!o) return;
      o.buildSeconds = b.seconds;
      o.cache = cacheAvailable
        ? `${plan.cache}: ${b.cachedSteps} of ${b.totalSteps} steps cached`
        : `none: ${b.cachedSteps} of ${b.totalSteps} steps from the builder's local cache`;
    });

    const smoke = await smokeAll(plan.images, plan.smokePlatforms, runner, env.runId);
    plan.images.forEach((img, i) => {
      const mine = smoke.filter((s) => s.image === img.name);
      const o = outcomes[i];
      if (!o) return;
      o.smoke = mine.some((s) => s.status === 'failed') ? 'failed' : mine.every((s) => s.status === 'skipped') ? 'skipped' : 'passed';
    });
    const failed = smoke.filter((s) => s.status === 'failed');
    if (failed.length > 0) {
      throw new Error(`${smokeFailureMessage(failed)}\n\nNothing was pushed: every smoke test must pass first.`);
    }

    for (const [i, img] of plan.images.entries()) {
      const o = outcomes[i];
      if (!o) continue;
      if (plan.push) {
        const p = await pushImage(img, runner, (ref) => pushedRefs.push(ref));
        o.digest = p.digest;
        o.size = p.sizes;
      } else {
        const ref = img.refs[0];
        if (ref)
          o.digest = (
            await runner.docker(['image', 'inspect', '--format={{.Id}}', ref], { silent: true, allowFailure: true })
          ).stdout.trim();
      }
    }
    result.pushed = plan.push;
    if (!plan.push) core.info(`Nothing pushed: ${plan.pushReason}. Every image was built and smoke-tested.`);
  } catch (e) {
    result.error = e as Error;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return result;
}
