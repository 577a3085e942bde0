// The publish pipeline: login → qemu → builder → build → smoke → push, each phase given the plan
// and the runner. Nothing is pushed unless every smoke test of every image passed, and no tag is
// created unless every image was pushed and every tested platform is, in the registry, the image
// that ran. The same path on both image stores (classic and containerd): the builder builds,
// the engine only ever holds the one platform a smoke test runs.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as core from '@actions/core';
import type { CacheService } from '../plan/cache-service.js';
import type { Plan } from '../plan/types.js';
import { platformsOf } from '../plan/platforms.js';
import { planOutcomes, type ImageOutcome } from '../report.js';
import { setupBuilder } from './builder.js';
import { buildImages, type Builders } from './build.js';
import { login } from './login.js';
import { setupNodes } from './nodes.js';
import { checkTested, pushByDigest, tagAll } from './push.js';
import { saveHandoff, type WorkflowRun } from './handoff.js';
import { mergePlatforms } from './merge.js';
import { signImages, type SignRun } from './sign.js';
import type { HandoffImage, HandoffRecord } from '../plan/handoff.js';
import { actionsCache, makeEntry, restoreGoCache, type CacheStore, type GoCacheEntry } from './go-cache.js';
import { nodeArch, qemuPlatforms, setupQemu } from './qemu.js';
import type { Runner } from './runner.js';
import { smokeAll, smokeFailureMessage, smokePlatforms, type SmokeResult } from './smoke.js';

export interface PipelineHooks {
  /** Called as soon as something exists that post must undo. */
  loggedIn(registry: string): void;
  builderCreated(name: string): void;
  /** A node's builder: post removes it and keeps its state (the node's build cache). */
  nodeBuilderCreated?(name: string): void;
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
  /** The GitHub Actions cache service the runner gives the step (plan/cache-service.ts). */
  ghaCache: CacheService;
  tempDir?: string;
  /** GITHUB_WORKSPACE: image contexts are relative to it. */
  workspace?: string;
  /** The cache service for the Go caches and the hand-off (@actions/cache unless a test passes a fake). */
  cacheStore?: CacheStore;
  /** The workflow run (mode platform and merge carry digests under its ID). */
  workflowRun?: WorkflowRun;
  /** What a keyless signature's certificate names (GITHUB_SERVER_URL, GITHUB_WORKFLOW_REF). */
  signRun?: SignRun;
}

export async function runPipeline(plan: Plan, runner: Runner, hooks: PipelineHooks, env: PipelineEnv): Promise<PipelineResult> {
  const store = env.cacheStore ?? actionsCache;
  const pushedRefs: string[] = [];
  const outcomes: ImageOutcome[] = planOutcomes(plan);
  const result: PipelineResult = { images: outcomes, pushed: false, pushedRefs };
  const tmp = mkdtempSync(join(env.tempDir ?? tmpdir(), 'gdp-run-'));
  try {
    // Logged in before anything is pulled (the binfmt and BuildKit images, base images): Docker
    // Hub's anonymous pull limit never applies to a publishing run.
    if (plan.push) await login(plan.registries, runner, hooks.loggedIn);
    // Every tag of every image from what was pushed by digest, then the signatures: publish and merge.
    const tagAndSign = async (sources: string[][]): Promise<void> => {
      await tagAll(plan, sources, runner, outcomes, (ref) => pushedRefs.push(ref));
      await signImages(plan, outcomes, runner, tmp, signRun(env), pushedRefs);
    };
    if (plan.mode === 'merge') {
      if (plan.push) await tagAndSign(await mergePlatforms(plan, runner, store, workflowRun(env), outcomes));
      else core.info(`Nothing merged: ${plan.pushReason}.`);
      result.pushed = plan.push;
      return result;
    }
    await setupQemu(
      plan.qemu,
      plan.qemu === 'true' ? platformsOf(plan.images) : qemuPlatforms(plan, (img) => smokePlatforms(img, plan.smokePlatforms, nodeArch())),
      runner
    );
    const runnerBuilder = await setupBuilder(plan.builder, runner, env.runId, hooks.builderCreated);
    const nodes = await setupNodes(plan.builderEndpoints, runner, (b) => hooks.nodeBuilderCreated?.(b));
    const builders: Builders = { runner: runnerBuilder, nodes };

    let cacheAvailable = plan.cache !== 'none';
    if (plan.cache === 'gha' && !env.ghaCache.protocol) {
      core.warning(`cache: gha, but there is no cache service: ${env.ghaCache.reason}. Building without a cache.`);
      cacheAvailable = false;
    } else if (plan.cache === 'gha') {
      core.info(`Cache: gha, through ${env.ghaCache.reason}`);
    }
    await restoreGoCaches(plan, runnerBuilder.name, runner, hooks, env, outcomes);
    const builds = await buildImages(plan, builders, runner, tmp, cacheAvailable);
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

    const smoke = await smokeAll(plan, builds, builders, runner, env.runId, tmp);
    plan.images.forEach((img, i) => {
      const mine = smoke.filter((s) => s.image === img.name);
      const o = outcomes[i];
      if (!o) return;
      o.smoke = mine.some((s) => s.status === 'failed') ? 'failed' : mine.every((s) => s.status === 'skipped') ? 'skipped' : 'passed';
      o.tested = Object.fromEntries(mine.flatMap((s) => (s.imageId ? [[s.platform, s.imageId]] : [])));
    });
    const failed = smoke.filter((s) => s.status === 'failed');
    if (failed.length > 0) {
      throw new Error(`${smokeFailureMessage(failed)}\n\nNothing was pushed: every smoke test must pass first.`);
    }

    if (plan.push) {
      // Every image by digest and checked first: a fault here leaves no tag of this release anywhere.
      const sources: string[][] = [];
      for (const build of builds) {
        const pushed = await pushByDigest(plan, build, builders, runner, tmp);
        await checkTested(build, pushed, smoke, runner);
        sources.push(pushed);
      }
      if (plan.mode === 'platform') {
        // No tag here: the merge job tags once every platform run has pushed and passed.
        const run = workflowRun(env);
        await saveHandoff(plan, handoffRecords(plan, sources, smoke, run), store, run);
        plan.images.forEach((_, i) => {
          const o = outcomes[i];
          if (!o) return;
          o.tags = [];
          o.digest = (sources[i]?.[0] ?? '').split('@')[1] ?? '';
        });
      } else await tagAndSign(sources);
    }
    // A platform run pushes by digest only: `pushed` (every tag in the registry) is the merge job's.
    result.pushed = plan.push && plan.mode === 'publish';
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

function signRun(env: PipelineEnv): SignRun {
  return env.signRun ?? { serverUrl: 'https://github.com', workflowRef: '' };
}

function workflowRun(env: PipelineEnv): WorkflowRun {
  if (!env.workflowRun) throw new Error('mode platform and merge need the workflow run (GITHUB_RUN_ID, GITHUB_SHA)');
  return env.workflowRun;
}

/** Pure: what a platform run hands to the merge job, one record per platform it built. */
export function handoffRecords(plan: Plan, sources: string[][], smoke: SmokeResult[], run: WorkflowRun): HandoffRecord[] {
  return platformsOf(plan.images).map((platform) => ({
    schema: 1,
    run: run.id,
    sha: run.sha,
    version: plan.release.version ?? null,
    platform,
    images: plan.images.flatMap((img, i): HandoffImage[] => {
      const source = sources[i]?.[0];
      if (!img.platforms.includes(platform) || !source) return [];
      const t = smoke.find((s) => s.image === img.name && s.platform === platform);
      if (t?.status === 'passed')
        return [{ name: img.name, source, smoke: 'passed' as const, ...(t.imageId ? { tested: t.imageId } : {}) }];
      return img.smoke.enabled ? [] : [{ name: img.name, source, smoke: 'skipped' as const }];
    })
  }));
}
