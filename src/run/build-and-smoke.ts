// Build and smoke-test every image, overlapped instead of one after the other. Per image: the
// first platform to test (the runner's own, with smoke-platforms: native) is built on its own by
// its load while the image's other platforms compile beside it (a build of those only: two builds
// that reach one step at the same moment both run it); its smoke test runs as soon as it is
// loaded. Then the build of every platform, cache hits by then, saves the layer cache; the other
// platforms to test are loaded and run after it, one at a time (one platform of an image in the
// image store at a time). Images go side
// by side as the runner's cores allow (concurrency.ts): the next image starts building once one
// has built, whatever its smoke tests still do. Nothing here pushes: the pipeline pushes only
// when every smoke test of every image has passed, which may be while a build still compiles.
import * as core from '@actions/core';
import { join } from 'node:path';
import { partOf, partPlace, splitPlatforms, type BuildPart } from '../plan/parts.js';
import { smokePlatforms } from '../plan/smoke.js';
import type { Plan, PlannedImage } from '../plan/types.js';
import type { PhaseClock } from '../report/phases.js';
import { builtImage, buildPart, type Builders, type BuildResult } from './build.js';
import { allSettledOrThrow, deferred, eachBounded } from './concurrency.js';
import { nodeArch } from './qemu.js';
import type { Runner } from './runner.js';
import { loadPlatform, smokeImage, type SmokeProbe, type SmokeResult } from './smoke.js';

export interface LaneEnv {
  builders: Builders;
  runner: Runner;
  tmp: string;
  cacheAvailable: boolean;
  runId: string;
  clock: PhaseClock;
  probe?: SmokeProbe;
  dryRun?: boolean;
}

/** An image whose smoke tests are done; its build may still be under way (its other platforms). */
export interface Building {
  image: PlannedImage;
  parts: BuildPart[];
  built: Promise<BuildResult>;
}

/** One image under way: built (every platform in the builder's cache), and tested (every smoke test done). */
interface Lane extends Building {
  tested: Promise<SmokeResult[]>;
}

function startImage(plan: Plan, img: PlannedImage, i: number, env: LaneEnv): Lane {
  const { builders, runner, clock } = env;
  const parts = splitPlatforms(img.platforms, builders.nodes);
  const toTest = smokePlatforms(img, plan.smokePlatforms, nodeArch());
  const load = (platform: string, first: boolean): Promise<{ imageId: string; log: string }> =>
    loadPlatform(plan, img, parts, platform, builders, runner, {
      tmp: env.tmp,
      key: String(i),
      first,
      cacheAvailable: first && env.cacheAvailable,
      runId: env.runId
    });
  const first = img.smoke.enabled ? toTest[0] : undefined;
  const firstLoad = first === undefined ? undefined : load(first, true);
  const firstPart = first === undefined ? undefined : partOf(parts, first);
  const started = Date.now();
  const built = clock.time(`build ${img.name}`, async () => {
    for (const part of parts) core.info(`Building ${img.name} for ${part.platforms.join(', ')} ${partPlace(part)}`);
    let besideLog = '';
    const logs = await allSettledOrThrow(
      parts.map(async (part, j) => {
        if (part === firstPart && firstLoad) {
          // The part's other platforms compile beside the load that builds the tested one; not
          // that one as well: two builds that reach the same step at once both run it. Then the
          // whole part, whose steps are all in the builder's cache by then, saves the layer cache.
          const others = { ...part, platforms: part.platforms.filter((p) => p !== first) };
          if (others.platforms.length === 0) await firstLoad;
          else {
            const file = join(env.tmp, `build-${i}-${j}-beside.json`);
            const beside = buildPart(plan, img, file, others, builders, runner, env.cacheAvailable, { saveCache: false });
            [, besideLog] = await allSettledOrThrow([firstLoad, beside] as const);
          }
        }
        return buildPart(plan, img, join(env.tmp, `build-${i}-${j}.json`), part, builders, runner, env.cacheAvailable);
      })
    );
    const firstLogs = firstLoad ? [(await firstLoad).log, besideLog] : [];
    return builtImage(img, parts, (Date.now() - started) / 1000, logs, firstLogs);
  });
  const tested = (async (): Promise<SmokeResult[]> => {
    const results: SmokeResult[] = [];
    for (const [k, platform] of toTest.entries()) {
      const smoke = (loaded: () => Promise<string>): Promise<SmokeResult> =>
        smokeImage(img, platform, runner, env.runId, loaded, env.probe, env.dryRun);
      if (!img.smoke.enabled) results.push(await smoke(() => Promise.resolve('')));
      else if (k === 0 && firstLoad) {
        results.push(await clock.time(`load + smoke ${img.name} ${platform}`, () => smoke(async () => (await firstLoad).imageId)));
      } else {
        // The next platforms are loaded from the build, one at a time.
        await built;
        results.push(
          await clock.time(`load + smoke ${img.name} ${platform}`, () => smoke(async () => (await load(platform, false)).imageId))
        );
      }
    }
    return results;
  })();
  // Its failure is taken up once every image has settled (buildAndSmoke), not as an unhandled rejection before.
  tested.catch(() => undefined);
  return { image: img, parts, built, tested };
}

/**
 * Every image built and smoke-tested, at most `parallelism` images building at once. Returns once
 * every smoke test of every image has ended (a smoke test that fails is a result): the images'
 * builds may still compile their other platforms (`built`, in the plan's order), so that the
 * pushes start as soon as every test passed. Throws the first failure of a build or of a test's
 * commands, once everything started has settled.
 */
export async function buildAndSmoke(
  plan: Plan,
  env: LaneEnv,
  parallelism: number
): Promise<{ smoke: SmokeResult[]; building: Building[]; built: Promise<BuildResult[]> }> {
  const lanes = plan.images.map(() => deferred<Lane>());
  const pool = eachBounded(plan.images, parallelism, (img, i) => {
    const lane = startImage(plan, img, i, env);
    lanes[i]?.resolve(lane);
    // The next image starts once this one is built, whatever its smoke tests still do.
    return lane.built;
  });
  // A failed build stops the pool: the images it did not start never will.
  pool.catch((e: unknown) => lanes.forEach((l) => l.reject(e)));
  const tested = await Promise.allSettled(lanes.map(async (l) => (await l.promise).tested));
  const rejected = tested.find((t) => t.status === 'rejected');
  if (rejected) {
    // Every build and smoke test started has ended (and removed its container) before the run goes on.
    const buildFailure = await pool.then(
      () => undefined,
      (e: unknown) => e
    );
    throw buildFailure ?? rejected.reason;
  }
  const building = await Promise.all(lanes.map((l) => l.promise));
  return { smoke: tested.flatMap((t) => (t.status === 'fulfilled' ? t.value : [])), building, built: pool };
}
