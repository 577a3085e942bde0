// The order of a run, and only that: login → qemu → builder (+ build nodes) → derived Dockerfiles
// (run/derived-dockerfile.ts) → Go cache restore → build + smoke (each image's first platform to
// test is built first and smoke-tested while its other platforms compile; images side by side as
// the cores allow) → push by digest + check → tags (floating tags converge) → sign → attest →
// read-back; mode: platform hands the digests over instead of tagging, mode: merge is login →
// hand-off → check → tags → sign → attest → read-back. Each phase is a file of its own, given the
// plan and the runner, and timed by one clock (the summary's "where the time went"). Nothing is
// pushed unless every smoke test of every image passed, and no tag is created unless every image
// was pushed and every tested platform is, in the registry, the image that ran. A real run and a
// dry run (run/dry-run.ts) both run this.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as core from '@actions/core';
import type { CacheService } from '../plan/cache-service.js';
import { handoffRecords } from '../plan/handoff.js';
import { floatingTags } from '../plan/floating.js';
import { platformsOf } from '../plan/platforms.js';
import { smokePlatforms } from '../plan/smoke.js';
import type { Plan } from '../plan/types.js';
import { planOutcomes, recordBuilds, recordHandedOff, recordMerged, recordNotLeft, recordSmoke, recordTags } from '../report/outcomes.js';
import type { RunResult } from '../report/index.js';
import { PhaseClock } from '../report/phases.js';
import { attestImages, type ImageSmoke } from './attest.js';
import type { Builders } from './build.js';
import { buildAndSmoke } from './build-and-smoke.js';
import { setupBuilder } from './builder.js';
import { imageParallelism, pushParallelism } from './concurrency.js';
import { deriveDockerfiles } from './derived-dockerfile.js';
import { actionsCache, type CacheStore } from './actions-cache.js';
import { restoreGoCaches, type GoCacheEntry } from './go-cache.js';
import { saveHandoff, type WorkflowRun } from './handoff.js';
import { login } from './login.js';
import { mergePlatforms } from './merge.js';
import { setupNodes } from './nodes.js';
import { convergeFloating } from './converge.js';
import { pushAll } from './push.js';
import { nodeArch, qemuPlatforms, setupQemu, type BinfmtReader } from './qemu.js';
import type { GithubAttester } from './github-attest.js';
import { readBack } from './read-back.js';
import type { TagLister } from './registry-tags.js';
import type { Runner } from './runner.js';
import { signImages, type SignRun } from './sign.js';
import { smokeFailureMessage, type SmokeProbe } from './smoke.js';
import { tagAll, type TaggedImage } from './tag.js';

export interface PipelineHooks {
  /** Called as soon as something exists that post must undo. */
  loggedIn(registry: string): void;
  builderCreated(name: string): void;
  /** A node's builder: post removes it and keeps its state (the node's build cache). */
  nodeBuilderCreated?(name: string): void;
  /** A Go cache post must save (it was restored, or nothing was saved yet). */
  goCacheReady?(entry: GoCacheEntry): void;
}

/** The outcome per image, whether every image was pushed, the refs actually pushed (also when the run failed half-way), the error. */
export type PipelineResult = RunResult;

export interface PipelineEnv {
  /** This job's own: the workflow run, its attempt and the job's instance (matrix jobs share the first two). */
  runId: string;
  /** The GitHub Actions cache service the runner gives the step (plan/cache-service.ts). */
  ghaCache: CacheService;
  tempDir?: string;
  /** GITHUB_WORKSPACE: image contexts are relative to it. */
  workspace?: string;
  /** The cache service for the Go caches and the hand-off (@actions/cache unless a test or a dry run passes another). */
  cacheStore?: CacheStore;
  /** The workflow run (mode platform and merge carry digests under its ID). */
  workflowRun?: WorkflowRun;
  /** What a keyless signature's certificate names (GITHUB_SERVER_URL, GITHUB_WORKFLOW_REF). */
  signRun?: SignRun;
  /** The registries' tag lists, for the floating tags' check after writing them (absent: not checked). */
  registryTags?: TagLister;
  /** A dry run: the runner records; phases word their log as what a real run would do. */
  dryRun?: boolean;
  /** Time and HTTP for the smoke tests' watch (tests pass a fake). */
  smokeProbe?: SmokeProbe;
  /** attest: github: @actions/attest in-process (run/github-attest.ts; a dry run records instead). */
  githubAttester?: GithubAttester;
  /** How many images build (and push) at once; by default as the runner's cores allow (pushes: up to four). */
  parallelism?: number;
  /** What binfmt_misc has registered (by default /proc/sys/fs/binfmt_misc; tests pass another machine's). */
  binfmt?: BinfmtReader;
}

export async function runPipeline(plan: Plan, runner: Runner, hooks: PipelineHooks, env: PipelineEnv): Promise<PipelineResult> {
  const store = env.cacheStore ?? actionsCache;
  const dryRun = env.dryRun ?? false;
  const pushedRefs: string[] = [];
  const outcomes = planOutcomes(plan);
  const clock = new PhaseClock();
  const phase = clock.time.bind(clock);
  // A phase that does nothing in this run (no floating tags, no signing) gets no row.
  const phaseIf = <T>(on: boolean, name: string, fn: () => Promise<T>): Promise<T> => (on ? phase(name, fn) : fn());
  const result: PipelineResult = { images: outcomes, pushed: false, pushedRefs, phases: clock.phases };
  const tmp = mkdtempSync(join(env.tempDir ?? tmpdir(), 'gdp-run-'));
  const parallelism = env.parallelism ?? imageParallelism(plan.images.length);
  const pushes = env.parallelism ?? pushParallelism(plan.images.length);
  let builds: Promise<void> = Promise.resolve();
  // Every tag of every image from what was pushed by digest, then the signatures, the attestations
  // and their read-back: publish and merge.
  const tagAndSign = async (sources: string[][], smoke: ImageSmoke[]): Promise<void> => {
    const hear = {
      pushed: (ref: string) => void pushedRefs.push(ref),
      tagged: (i: number, t: TaggedImage & { tags: string[] }) => recordTags(outcomes, i, t)
    };
    const tagged = await phase('tag', () => tagAll(plan, sources, runner, hear, dryRun));
    // Releases at once: floating tags this run wrote go on to the highest version present.
    const converge = (): Promise<Set<string>> => convergeFloating(plan, tagged, runner, env.registryTags, { dryRun });
    recordNotLeft(outcomes, pushedRefs, await phaseIf(floatingTags(plan.release).length > 0, 'converge', converge));
    const signing = plan.sign.mode !== 'false';
    const signatures = await phaseIf(signing, 'sign', () => signImages(plan, tagged, runner, tmp, signRun(env), pushedRefs));
    signatures.forEach((s, i) => {
      const o = outcomes[i];
      if (s && o) o.signature = s;
    });
    const evidence = { tmp, run: signRun(env), pushedRefs, github: env.githubAttester, dryRun };
    const attesting = plan.attest.smoke || Boolean(plan.attest.github);
    const attested = await phaseIf(attesting, 'attest', () => attestImages(plan, tagged, smoke, runner, evidence));
    attested.forEach((a, i) => {
      const o = outcomes[i];
      if (a.length > 0 && o) o.attestations = a;
    });
    await phaseIf(signing || attesting, 'read-back', () => readBack(plan, tagged, attested, runner, evidence));
  };
  try {
    // Logged in before anything is pulled (the binfmt and BuildKit images, base images): Docker
    // Hub's anonymous pull limit never applies to a publishing run.
    if (plan.push) await phase('login', () => login(plan.registries, runner, hooks.loggedIn));
    if (plan.mode === 'merge') {
      if (plan.push) {
        const merged = await phase('check', () => mergePlatforms(plan, runner, store, workflowRun(env)));
        recordMerged(outcomes, merged.tested);
        await tagAndSign(merged.sources, merged.smoke);
      } else core.info(`Nothing merged: ${plan.pushReason}.`);
      result.pushed = plan.push;
      return result;
    }
    const smoked = (img: Plan['images'][number]): string[] => smokePlatforms(img, plan.smokePlatforms, nodeArch());
    const emulate = plan.qemu === 'true' ? platformsOf(plan.images) : qemuPlatforms(plan, smoked);
    await phase('QEMU', () => setupQemu(plan.qemu, emulate, runner, env.binfmt));
    const runnerBuilder = await phase('builder', () => setupBuilder(plan.builder, runner, env.runId, hooks.builderCreated));
    const nodes = plan.builderEndpoints.length
      ? await phase('build nodes', () =>
          setupNodes(plan.builderEndpoints, runner, (b) => hooks.nodeBuilderCreated?.(b), {
            instance: env.runId,
            ownBuilder: hooks.builderCreated
          })
        )
      : [];
    const builders: Builders = { runner: runnerBuilder, nodes };

    const cacheAvailable = layerCacheAvailable(plan, env.ghaCache);
    const workspace = env.workspace ?? process.cwd();
    const derived = await phase('derived Dockerfiles', () =>
      deriveDockerfiles(plan, runnerBuilder.name, runner, { tmp, workspace, dryRun })
    );
    derived.forEach((d, i) => {
      const o = outcomes[i];
      if (d !== undefined && o) o.derived = d;
    });
    const goCaches = await phase('Go cache restore', () =>
      restoreGoCaches(plan, runnerBuilder.name, runner, store, {
        workspace,
        runId: env.runId,
        ready: (entry) => hooks.goCacheReady?.(entry)
      })
    );
    goCaches.forEach((g, i) => {
      const o = outcomes[i];
      if (g !== undefined && o) o.goCache = g;
    });
    const lanes = { builders, runner, tmp, cacheAvailable, runId: env.runId, clock, probe: env.smokeProbe, dryRun };
    // Returns once every smoke test has run; the last images' builds may still compile.
    const { smoke, building, built } = await buildAndSmoke(plan, lanes, parallelism);
    builds = built.then((b) => recordBuilds(plan, outcomes, b, cacheAvailable));
    recordSmoke(plan, outcomes, smoke);
    const failed = smoke.filter((s) => s.status === 'failed');
    if (failed.length > 0) {
      throw new Error(`${smokeFailureMessage(failed)}\n\nNothing was pushed: every smoke test must pass first.`);
    }

    if (plan.push) {
      // Every image by digest (the push of one still building shares its compile) and checked
      // first: a fault here leaves no tag of this release anywhere.
      const pushing = { builders, runner, tmp, clock, parallelism: pushes, sizes: plan.mode === 'publish' };
      const sources = await pushAll(plan, building, smoke, pushing);
      if (plan.mode === 'platform') {
        // No tag here: the merge job tags once every platform run has pushed and passed.
        const run = workflowRun(env);
        await phase('hand-off', () => saveHandoff(plan, handoffRecords(plan, sources, smoke, run), store, run, runner));
        recordHandedOff(outcomes, sources);
      } else await tagAndSign(sources, smoke);
    }
    await builds;
    // A platform run pushes by digest only: `pushed` (every tag in the registry) is the merge job's.
    result.pushed = plan.push && plan.mode === 'publish';
    if (!plan.push) core.info(`Nothing pushed: ${plan.pushReason}. Every image was built and smoke-tested.`);
  } catch (e) {
    result.error = e as Error;
  } finally {
    // Nothing runs on once the run has ended: a build still compiling is waited for (and recorded).
    await builds.catch(() => undefined);
    rmSync(tmp, { recursive: true, force: true });
  }
  return result;
}

/** The layer cache (cache: gha | registry) is used unless it is gha and the runner gives no cache service. */
function layerCacheAvailable(plan: Plan, service: CacheService): boolean {
  if (plan.cache === 'none') return false;
  if (plan.cache !== 'gha') return true;
  if (!service.protocol) {
    core.warning(`cache: gha, but there is no cache service: ${service.reason}. Building without a cache.`);
    return false;
  }
  core.info(`Cache: gha, through ${service.reason}`);
  return true;
}

function signRun(env: PipelineEnv): SignRun {
  return env.signRun ?? { serverUrl: 'https://github.com', workflowRef: '' };
}

function workflowRun(env: PipelineEnv): WorkflowRun {
  if (!env.workflowRun) throw new Error('mode platform and merge need the workflow run (GITHUB_RUN_ID, GITHUB_SHA)');
  return env.workflowRun;
}
