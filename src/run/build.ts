// Builds every image of the plan for all its platforms into the engine's image store (--load),
// where the smoke tests run it and from where exactly that result is pushed.
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as core from '@actions/core';
import { buildxBuildArgs, cacheArgs } from '../plan/commands.js';
import type { Plan, PlannedImage } from '../plan/types.js';
import { splitPlatforms, type BuildNode, type BuildPart } from './nodes.js';
import { mergeLayouts, writeTar } from './oci-layout.js';
import { lastLines, type ExecResult, type Runner } from './runner.js';

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
  cacheAvailable: boolean,
  nodes: BuildNode[] = []
): Promise<BuildResult[]> {
  const results: BuildResult[] = [];
  for (const [i, img] of plan.images.entries()) {
    const metadataFile = join(tmp, `metadata-${i}.json`);
    const parts = splitPlatforms(img.platforms, nodes);
    const started = Date.now();
    const res =
      parts.length === 1 && !parts[0]?.node
        ? await core.group(`Build ${img.name} for ${img.platforms.join(', ')}`, () =>
            runner.docker(imageBuildArgs(plan, img, builder, metadataFile, cacheAvailable))
          )
        : await buildOnNodes(plan, img, parts, builder, runner, join(tmp, `oci-${i}`), cacheAvailable);
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

/** The command of one part of a split build: a node's runs in its Docker context, without the gha/registry cache. */
export function partBuildArgs(
  plan: Plan,
  img: PlannedImage,
  part: BuildPart,
  builder: string,
  dir: string,
  cacheAvailable: boolean
): string[] {
  const cache = cacheAvailable && !part.node ? cacheArgs(plan.cache, img) : { from: [], to: [] };
  const args = buildxBuildArgs(img, {
    // A node's part names its context's builder too: BUILDX_BUILDER in the environment must not win.
    builder: part.node ? part.node.context : builder,
    platforms: part.platforms,
    cacheFrom: cache.from,
    cacheTo: cache.to,
    metadataFile: `${dir}.metadata.json`,
    output: { oci: dir },
    progress: 'plain'
  });
  return part.node ? [`--context=${part.node.context}`, ...args] : args;
}

/**
 * The build of one image split over the runner and remote nodes, all at once: each part exports an
 * OCI layout; the layouts are merged into one multi-platform image and loaded into the engine under
 * every ref. The gha/registry cache is the runner's part's; a node keeps its own.
 */
async function buildOnNodes(
  plan: Plan,
  img: PlannedImage,
  parts: BuildPart[],
  builder: string,
  runner: Runner,
  dir: string,
  cacheAvailable: boolean
): Promise<ExecResult> {
  mkdirSync(dir, { recursive: true });
  try {
    // allSettled: the folder is removed only once no part still writes into it.
    const settled = await Promise.allSettled(
      parts.map(async (part, j) => {
        const args = partBuildArgs(plan, img, part, builder, join(dir, `part-${j}`), cacheAvailable);
        const where = part.node ? `on ${part.node.endpoint}` : 'on the runner';
        core.info(`Building ${img.name} for ${part.platforms.join(', ')} ${where}`);
        const r = await runner.docker(args, { silent: true, allowFailure: true });
        core.startGroup(`Build ${img.name} for ${part.platforms.join(', ')} ${where}`);
        core.info(`${r.stdout}${r.stderr}`);
        core.endGroup();
        if (r.exitCode !== 0) {
          throw new Error(
            `Build of ${img.name} for ${part.platforms.join(', ')} ${where} failed (exit code ${r.exitCode}): ${lastLines(r.stderr, 1)}`
          );
        }
        return r;
      })
    );
    const failed = settled.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    const outputs = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const merged = join(dir, 'merged');
    const digest = mergeLayouts(
      parts.map((_, j) => join(dir, `part-${j}`)),
      merged,
      img.refs
    );
    writeTar(merged, join(dir, 'image.tar'));
    await runner.docker(['load', `--input=${join(dir, 'image.tar')}`], { silent: true });
    core.info(`Loaded ${img.name} (${digest}) for ${img.platforms.join(', ')}, built on ${parts.length} nodes`);
    return {
      exitCode: 0,
      stdout: outputs.map((o) => o.stdout).join('\n'),
      stderr: outputs.map((o) => o.stderr).join('\n')
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
