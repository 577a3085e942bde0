// The publish pipeline: qemu → builder → login → build → smoke → push, each phase given the plan
// and the runner. Nothing is pushed unless every smoke test passed.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as core from '@actions/core';
import type { Plan } from '../plan/types.js';
import { planOutcomes, type ImageOutcome } from '../report.js';
import { setupBuilder } from './builder.js';
import { buildImages } from './build.js';
import { login } from './login.js';
import { setupNodes } from './nodes.js';
import { pushImage } from './push.js';
import { actionsCache, makeEntry, restoreGoCache, type CacheStore, type GoCacheEntry } from './go-cache.js';
import { nodeArch, qemuPlatforms, setupQemu } from './qemu.js';
import type { Runner } from './runner.js';
import { smokeAll, smokeFailureMessage, smokePlatforms } from './smoke.js';

export interface PipelineHooks {
  /** Called as soon as something exists that post must undo. */
  loggedIn(registry: string): void;
  builderCreated(name: string): void;
  /** A Go cache post must save (it was restored, or nothing was saved yet). */
  goCacheReady?(entry: GoCacheEntry): void;
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
  /** GITHUB_WORKSPACE: image contexts are relative to it. */
  workspace?: string;
  /** The cache service for the Go caches (@actions/cache unless a test passes a fake). */
  cacheStore?: CacheStore;
}

export async function runPipeline(plan: Plan, runner: Runner, hooks: PipelineHooks, env: PipelineEnv): Promise<PipelineResult> {
  const pushedRefs: string[] = [];
  const outcomes: ImageOutcome[] = planOutcomes(plan);
  const result: PipelineResult = { images: outcomes, pushed: false, pushedRefs };
  const tmp = mkdtempSync(join(env.tempDir ?? tmpdir(), 'gdp-run-'));
  try {
    const allPlatforms = [...new Set(plan.images.flatMap((i) => i.platforms))];
    await setupQemu(
      plan.qemu,
      plan.qemu === 'true' ? allPlatforms : qemuPlatforms(plan, (img) => smokePlatforms(img, plan.smokePlatforms, nodeArch())),
      runner
    );
    const builder = await setupBuilder(plan.builder, runner, env.runId, hooks.builderCreated);
    const nodes = await setupNodes(plan.builderEndpoints, runner, env.runId);
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
    await restoreGoCaches(plan, builder.name, runner, hooks, env, outcomes);
    const builds = await buildImages(plan, builder.name, runner, tmp, cacheAvailable, nodes);
    builds.forEach((b, i) => {
      const o = outcomes[i];
      if (!o) return;
      o.buildSeconds = b.seconds;
      o.cache = cacheAvailable
        ? `${plan.cache}: ${b.cachedSteps} of ${b.totalSteps} steps cached` +
          (b.cacheErrors.import ? '; cache not read (the cache service failed)' : '') +
          (b.cacheErrors.export ? '; cache not saved (the cache service failed)' : '')
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

async function restoreGoCaches(
  plan: Plan,
  builder: string,
  runner: Runner,
  hooks: PipelineHooks,
  env: PipelineEnv,
  outcomes: ImageOutcome[]
): Promise<void> {
  const store = env.cacheStore ?? actionsCache;
  // BuildKit keeps a cache mount per builder and id: images that share mounts restore and save them once.
  const first = new Map<string, string>();
  for (const [i, img] of plan.images.entries()) {
    const o = outcomes[i];
    const spec = img.check?.goCache;
    if (!o || !spec) continue;
    if (plan.goCache === 'false') {
      o.goCache = 'off (go-cache: false)';
      continue;
    }
    if (!store.available()) {
      o.goCache = 'off: no cache service (not running on GitHub Actions?)';
      core.info(`Go cache of ${img.name}: the GitHub Actions cache service is not available here`);
      continue;
    }
    const mounts = spec.mounts
      .map((m) => m.id)
      .sort()
      .join(',');
    const sharedWith = first.get(mounts);
    if (sharedWith) {
      o.goCache = `shared with ${sharedWith} (same cache mounts)`;
      continue;
    }
    first.set(mounts, img.name);
    const context = resolve(env.workspace ?? process.cwd(), img.context);
    const entry = makeEntry(
      { image: img.name, scope: img.cacheScope, platforms: img.platforms, context, ...spec, run: env.runId },
      builder
    );
    o.goCache = await restoreGoCache(entry, runner, store);
    hooks.goCacheReady?.(entry);
  }
}
