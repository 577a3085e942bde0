// The build phase: every image, every platform, into the builder's cache (`--output
// type=cacheonly`), the runner's platforms on the runner's builder and each node's on its own,
// all parts of an image at once. The smoke and push phases export the same build again (cache
// hits) through exportPart: one platform loaded for a smoke test, every platform pushed by digest.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as core from '@actions/core';
import { buildxBuildArgs, cacheArgs, type BuildOutput } from '../plan/commands.js';
import type { Plan, PlannedImage } from '../plan/types.js';
import type { BuilderChoice } from './builder.js';
import { splitPlatforms, type BuildNode, type BuildPart } from './nodes.js';
import { lastLines, type ExecResult, type Runner } from './runner.js';

export interface BuildResult {
  image: PlannedImage;
  /** Where each platform was built: the smoke and push phases export from the same part. */
  parts: BuildPart[];
  seconds: number;
  /** Steps BuildKit took from the cache, of all the steps it ran or reused. */
  cachedSteps: number;
  totalSteps: number;
  /** Cache import/export steps that failed (ignore-error=true keeps the build going). */
  cacheErrors: CacheErrors;
}

export interface CacheErrors {
  import?: string;
  export?: string;
}

/** The builders of a run: the runner's, and one per node. */
export interface Builders {
  runner: BuilderChoice;
  nodes: BuildNode[];
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

/**
 * Pure: the command of one part of an image's build with the given output. A node's part runs in
 * its Docker context and names its builder (BUILDX_BUILDER in the environment must not win); the
 * gha/registry cache is the runner's part's build's only (a node keeps its own cache).
 */
export function partArgs(
  plan: Plan,
  img: PlannedImage,
  part: BuildPart,
  builder: string,
  output: BuildOutput,
  metadataFile: string,
  cacheAvailable: boolean
): string[] {
  const cache = cacheAvailable && !part.node && output.type === 'cacheonly' ? cacheArgs(plan.cache, img) : { from: [], to: [] };
  const args = buildxBuildArgs(img, {
    builder: part.node ? part.node.builder : builder,
    platforms: part.platforms,
    cacheFrom: cache.from,
    cacheTo: cache.to,
    metadataFile,
    output,
    progress: 'plain'
  });
  return part.node ? [`--context=${part.node.context}`, ...args] : args;
}

/**
 * Pure: whether an image's layers get their file times clamped to SOURCE_DATE_EPOCH, which makes
 * two builds of one commit push the same digests. The docker driver's exporter refuses it.
 */
export function rewritesTimestamps(img: PlannedImage, driver: string): boolean {
  return driver !== 'docker' && img.buildArgs.SOURCE_DATE_EPOCH !== undefined;
}

/** Pure: the driver of the builder a part runs on: a node's is the docker-container builder setupNodes made. */
export function partDriver(part: BuildPart, runnerDriver: string): string {
  return part.node ? 'docker-container' : runnerDriver;
}

/** Pure: the part of an image that builds a platform. */
export function partOf(parts: BuildPart[], platform: string): BuildPart {
  const part = parts.find((p) => p.platforms.includes(platform));
  if (!part) throw new Error(`no part of the build makes ${platform}`);
  return part;
}

const where = (part: BuildPart): string => (part.node ? `on ${part.node.endpoint}` : 'on the runner');

/** Runs one part's build with an output; returns the build log and the metadata file's fields. */
export async function exportPart(
  plan: Plan,
  img: PlannedImage,
  part: BuildPart,
  builder: string,
  output: BuildOutput,
  metadataFile: string,
  runner: Runner,
  cacheAvailable = false
): Promise<{ result: ExecResult; metadata: Record<string, unknown> }> {
  const result = await runner.docker(partArgs(plan, img, part, builder, output, metadataFile, cacheAvailable), {
    silent: true,
    allowFailure: true
  });
  const what = { cacheonly: 'Build', load: 'Load', 'push-by-digest': 'Push by digest' }[output.type];
  const subject = `${img.name} for ${part.platforms.join(', ')} ${where(part)}`;
  core.startGroup(`${what} ${subject}`);
  core.info(`${result.stdout}${result.stderr}`);
  core.endGroup();
  if (result.exitCode !== 0) {
    throw new Error(
      `${what === 'Load' ? 'Loading' : what} of ${subject} failed (exit code ${result.exitCode}): ${lastLines(result.stderr, 1)}\n${lastLines(result.stderr, 15)}`
    );
  }
  let metadata: Record<string, unknown> = {};
  try {
    metadata = JSON.parse(readFileSync(metadataFile, 'utf8')) as Record<string, unknown>;
  } catch {
    // no metadata file: nothing to read from it
  }
  rmSync(metadataFile, { force: true });
  return { result, metadata };
}

export async function buildImages(
  plan: Plan,
  builders: Builders,
  runner: Runner,
  tmp: string,
  cacheAvailable: boolean
): Promise<BuildResult[]> {
  const results: BuildResult[] = [];
  for (const [i, img] of plan.images.entries()) {
    const parts = splitPlatforms(img.platforms, builders.nodes);
    const started = Date.now();
    for (const part of parts) core.info(`Building ${img.name} for ${part.platforms.join(', ')} ${where(part)}`);
    // allSettled: every part has finished (or failed) before the run goes on or cleans up.
    const settled = await Promise.allSettled(
      parts.map((part, j) =>
        exportPart(plan, img, part, builders.runner.name, { type: 'cacheonly' }, join(tmp, `build-${i}-${j}.json`), runner, cacheAvailable)
      )
    );
    const failed = settled.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    const log = settled.map((r) => (r.status === 'fulfilled' ? `${r.value.result.stdout}\n${r.value.result.stderr}` : '')).join('\n');
    const seconds = (Date.now() - started) / 1000;
    const steps = countSteps(log);
    core.info(`Built ${img.name} in ${seconds.toFixed(1)} s; ${steps.cached} of ${steps.total} steps from the cache`);
    const errors = cacheErrors(log);
    if (errors.import) core.warning(`${img.name}: could not read the build cache, built without it: ${errors.import}`);
    if (errors.export) core.warning(`${img.name}: the build cache was not saved: ${errors.export}`);
    results.push({ image: img, parts, seconds, cachedSteps: steps.cached, totalSteps: steps.total, cacheErrors: errors });
  }
  return results;
}
