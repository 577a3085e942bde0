// The build of an image: every platform into the builder's cache (`--output type=cacheonly`), the
// runner's platforms on the runner's builder and each node's on its own, every part at once
// (build-and-smoke.ts starts them). The smoke and push phases export the same build (cache hits)
// through exportPart: one platform loaded for a smoke test, every platform pushed by digest. Each
// command's log is one collapsed group, written when it ends (images build side by side).
import { readFileSync, rmSync } from 'node:fs';
import * as core from '@actions/core';
import { partArgs, type BuildOutput } from '../plan/commands/build.js';
import { partPlace, type BuildNode, type BuildPart } from '../plan/parts.js';
import type { Plan, PlannedImage } from '../plan/types.js';
import { authFailure, authFailureMessage } from '../plan/auth-failure.js';
import { buildSteps, cacheErrors, type CacheErrors } from '../plan/build-log.js';
import { refusalFromBuildKit, refusalReason } from '../plan/cache-refusal.js';
import { goFetchFailure, goFetchFailureMessage } from '../plan/go-fetch-failure.js';
import { registryOf } from '../plan/reference.js';
import type { BuilderChoice } from './builder.js';
import { LogGroup } from './log-group.js';
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

/** The builders of a run: the runner's, and one per node. */
export interface Builders {
  runner: BuilderChoice;
  nodes: BuildNode[];
}

/**
 * Runs one part's build with an output; returns the build log and the metadata file's fields.
 * `what` names it in the log (default: Build, Load, Push by digest).
 */
export async function exportPart(
  plan: Plan,
  img: PlannedImage,
  part: BuildPart,
  builder: string,
  output: BuildOutput,
  metadataFile: string,
  runner: Runner,
  cacheAvailable = false,
  what: string = { cacheonly: 'Build', load: 'Load', 'push-by-digest': 'Push by digest' }[output.type]
): Promise<{ result: ExecResult; metadata: Record<string, unknown> }> {
  const result = await runner.docker(partArgs(plan, img, part, builder, output, metadataFile, cacheAvailable), {
    silent: true,
    allowFailure: true,
    // The values of build secrets: buildx reads them from its environment (--secret=id=…,env=…).
    env: plan.secretEnv
  });
  const subject = `${img.name} for ${part.platforms.join(', ')} ${partPlace(part)}`;
  const group = new LogGroup(`${what} ${subject}`);
  group.info(`${result.stdout}${result.stderr}`);
  group.write();
  if (result.exitCode !== 0) {
    const pushedTo = output.type === 'push-by-digest' ? registryOf(output.repository) : undefined;
    const refused = authFailure(`${result.stdout}\n${result.stderr}`, pushedTo);
    if (refused) {
      const doing = pushedTo === refused.registry ? `the push of ${subject}` : `a pull for the ${what.toLowerCase()} of ${subject}`;
      throw new Error(`${authFailureMessage(refused, doing)}\nLast lines of buildx:\n${lastLines(result.stderr, 15)}`);
    }
    const fetch = goFetchFailure(`${result.stdout}\n${result.stderr}`);
    if (fetch) {
      const configured = (plan.goPrivate?.hosts.length ?? 0) > 0;
      throw new Error(`${goFetchFailureMessage(fetch, subject, configured)}\nLast lines of buildx:\n${lastLines(result.stderr, 15)}`);
    }
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

/**
 * Builds one part of an image into the builder's cache (with the gha/registry cache: read, and
 * saved unless `saveCache: false`); returns its build log.
 */
export async function buildPart(
  plan: Plan,
  img: PlannedImage,
  file: string,
  part: BuildPart,
  builders: Builders,
  runner: Runner,
  cacheAvailable: boolean,
  o: { saveCache?: boolean } = {}
): Promise<string> {
  const output: BuildOutput = o.saveCache === false ? { type: 'cacheonly', saveCache: false } : { type: 'cacheonly' };
  const { result } = await exportPart(plan, img, part, builders.runner.name, output, file, runner, cacheAvailable);
  return `${result.stdout}\n${result.stderr}`;
}

/**
 * What an image's build came to, from the logs of its parts and of the builds before them (the
 * load that built its first tested platform, and the build of the other platforms beside it:
 * `firstLogs`, whose steps the parts' builds find cached): the time, how many steps the cache
 * gave, the cache errors (warned about).
 */
export function builtImage(img: PlannedImage, parts: BuildPart[], seconds: number, logs: string[], firstLogs: string[] = []): BuildResult {
  const steps = buildSteps(logs, firstLogs);
  core.info(`Built ${img.name} in ${seconds.toFixed(1)} s; ${steps.cached} of ${steps.total} steps from the cache`);
  const errors = cacheErrors([...firstLogs, ...logs].join('\n'));
  if (errors.import) core.warning(`${img.name}: could not read the build cache, built without it: ${errors.import}`);
  if (errors.export) {
    const why = refusalReason(refusalFromBuildKit(errors.export));
    core.warning(`${img.name}: the build cache was not saved, ${why}: ${errors.export}. The run goes on without it.`);
  }
  return { image: img, parts, seconds, cachedSteps: steps.cached, totalSteps: steps.total, cacheErrors: errors };
}
