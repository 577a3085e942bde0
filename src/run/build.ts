// Builds every image of the plan for all its platforms into the engine's image store (--load),
// where the smoke tests run it and from where exactly that result is pushed.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as core from '@actions/core';
import { buildxBuildArgs, cacheArgs } from '../plan/commands.js';
import type { Plan, PlannedImage } from '../plan/types.js';
import type { Runner } from './runner.js';

export interface BuildResult {
  image: PlannedImage;
  seconds: number;
  /** Steps BuildKit took from the cache, of all the steps it ran or reused. */
  cachedSteps: number;
  totalSteps: number;
  metadata: Record<string, unknown>;
  /** Cache import/export steps that failed (ignore-error=true keeps the build going). */
  cacheErrors: CacheErrors;
}

export interface CacheErrors {
  import?: string;
  export?: string;
}

/** Pure: failed cache steps in plain progress output ("#N importing cache …" / "#N exporting … cache" then "#N ERROR: …"). */
export function cacheErrors(log: string): CacheErrors {
  const kind = new Map<string, 'import' | 'export'>();
  const out: CacheErrors = {};
  for (const line of log.split('\n')) {
    const step = /^#(\d+) (importing cache|exporting (?:to GitHub Actions Cache|cache))/.exec(line);
    if (step?.[1]) kind.set(step[1], step[2]?.startsWith('importing') ? 'import' : 'export');
    const err = /^#(\d+) ERROR: (.*)$/.exec(line);
    const k = err?.[1] ? kind.get(err[1]) : undefined;
    if (k && err?.[2] && out[k] === undefined) out[k] = err[2];
  }
  return out;
}

/** Counts steps in BuildKit's plain progress output: "#N [stage x/y] ..." and "#N CACHED". */
export function countSteps(log: string): { cached: number; total: number } {
  const steps = new Set<string>();
  const cached = new Set<string>();
  for (const line of log.split('\n')) {
    const m = /^#(\d+) (\[.*\]|CACHED)/.exec(line);
    if (!m || !m[1]) continue;
    if (m[2] === 'CACHED') cached.add(m[1]);
    else if (/^\[[^\]]*\d+\/\d+\]/.test(m[2] ?? '')) steps.add(m[1]);
  }
  return { cached: [...cached].filter((s) => steps.has(s)).length, total: steps.size };
}

/** The build command of one image of the plan: what a real run starts and a dry run prints. */
export function imageBuildArgs(plan: Plan, img: PlannedImage, builder: string, metadataFile: string, cacheAvailable: boolean): string[] {
  const cache = cacheAvailable ? cacheArgs(plan.cache, img) : { from: [], to: [] };
  return buildxBuildArgs(img, {
    builder,
    platforms: img.platforms,
    cacheFrom: cache.from,
    cacheTo: cache.to,
    metadataFile,
    output: 'load',
    progress: 'plain'
  });
}

export async function buildImages(
  plan: Plan,
  builder: string,
  runner: Runner,
  tmp: string,
  cacheAvailable: boolean
): Promise<BuildResult[]> {
  const results: BuildResult[] = [];
  for (const [i, img] of plan.images.entries()) {
    const metadataFile = join(tmp, `metadata-${i}.json`);
    const args = imageBuildArgs(plan, img, builder, metadataFile, cacheAvailable);
    const started = Date.now();
    const res = await core.group(`Build ${img.name} for ${img.platforms.join(', ')}`, () => runner.docker(args));
    const seconds = (Date.now() - started) / 1000;
    const steps = countSteps(`${res.stdout}\n${res.stderr}`);
    let metadata: Record<string, unknown> = {};
    try {
      metadata = JSON.parse(readFileSync(metadataFile, 'utf8')) as Record<string, unknown>;
      rmSync(metadataFile, { force: true });
    } catch {
      // no metadata file: the build output says why
    }
    core.info(`Built ${img.name} in ${seconds.toFixed(1)} s; ${steps.cached} of ${steps.total} steps from the cache`);
    const errors = cacheErrors(`${res.stdout}\n${res.stderr}`);
    if (errors.import) core.warning(`${img.name}: could not read the build cache, built without it: ${errors.import}`);
    if (errors.export) core.warning(`${img.name}: the build cache was not saved: ${errors.export}`);
    results.push({ image: img, seconds, cachedSteps: steps.cached, totalSteps: steps.total, metadata, cacheErrors: errors });
  }
  return results;
}
