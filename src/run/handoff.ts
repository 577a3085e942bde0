// The digests a platform run pushed, carried to the merge job through the run's GitHub Actions
// cache (plan/handoff.ts says what and under which key). A save the cache service refuses for a
// while (429, a busy reservation) is tried again, within bounds; one it still refuses goes to the
// registry instead, beside the pushed image, with a warning naming the cause; only when neither
// takes it does the platform run fail, naming the platform and both causes. The merge reads the
// cache first, then the registry. Both modes need a workflow run and the cache service: checked
// before anything runs.
import { mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import * as core from '@actions/core';
import { refusalReason, worthRetrying } from '../plan/cache-refusal.js';
import { cacheService } from '../plan/cache-service.js';
import { tagArgs } from '../plan/commands/registry.js';
import {
  HANDOFF_ANNOTATION,
  HANDOFF_PATH,
  HANDOFF_TRIES,
  handoffKey,
  handoffPrefix,
  handoffRetryDelayMs,
  handoffTag,
  handoffTryKey,
  parseRecord,
  recordFromRegistry,
  registryRecord,
  type HandoffRecord
} from '../plan/handoff.js';
import type { Plan } from '../plan/types.js';
import type { CacheStore, SaveResult } from './actions-cache.js';
import { annotationsOf } from './registry.js';
import { DEFAULT_RETRY, withRetry, type RetryOptions } from './retry.js';
import type { Runner } from './runner.js';

/** The workflow run: GITHUB_RUN_ID, GITHUB_RUN_ATTEMPT, GITHUB_SHA. */
export interface WorkflowRun {
  id: string;
  attempt: string;
  sha: string;
}

/**
 * mode platform and merge carry the digests through the run's GitHub Actions cache, under the
 * workflow run's ID: without either, fail before anything runs.
 */
export function checkHandoffPossible(mode: Plan['mode'], env: NodeJS.ProcessEnv, store: CacheStore): void {
  const missing = [
    env.GITHUB_RUN_ID ? '' : 'GITHUB_RUN_ID',
    env.GITHUB_SHA ? '' : 'GITHUB_SHA',
    store.available() ? '' : `the GitHub Actions cache service (${cacheService(env).reason})`
  ].filter(Boolean);
  if (missing.length === 0) return;
  throw new Error(
    `Input "mode": "${mode}" is not valid here. Expected a workflow run with ${missing.join(' and ')}: the platform runs hand their digests to the merge job through the run's Actions cache. Use mode: publish outside a matrix.`
  );
}

const dir = (): string => join(homedir(), HANDOFF_PATH.slice(2));
const file = (): string => join(dir(), 'record.json');

export interface HandoffOptions {
  /** Waits between tries (tests pass a fake). */
  sleep?: (ms: number) => Promise<void>;
  /** The registry writes and reads. */
  retry?: RetryOptions;
}

const realSleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** One record into the cache, tried again while the service refuses it for a while. */
async function saveToCache(rec: HandoffRecord, key: string, store: CacheStore, sleep: (ms: number) => Promise<void>): Promise<SaveResult> {
  let result: SaveResult = { saved: false, refusal: { kind: 'failed', detail: 'not tried' } };
  for (let n = 1; n <= HANDOFF_TRIES; n++) {
    rmSync(dir(), { recursive: true, force: true });
    mkdirSync(dir(), { recursive: true });
    writeFileSync(file(), JSON.stringify(rec, null, 2));
    result = await store.save([HANDOFF_PATH], handoffTryKey(key, n));
    if (result.saved || !worthRetrying(result.refusal) || n === HANDOFF_TRIES) break;
    const ms = handoffRetryDelayMs(result.refusal.retryAfterSeconds, n);
    core.info(
      `The Actions cache did not take the hand-off record of ${rec.platform} (try ${n} of ${HANDOFF_TRIES}): ${refusalReason(result.refusal)}; trying again in ${ms / 1000} s`
    );
    await sleep(ms);
  }
  return result;
}

/** One record into the registry: per image, an index of its pushed digest tagged gdp-handoff-…, the record in an annotation. */
async function saveToRegistry(plan: Plan, rec: HandoffRecord, run: WorkflowRun, runner: Runner, retry: RetryOptions): Promise<string[]> {
  const refs: string[] = [];
  for (const image of rec.images) {
    const repo = plan.images.find((i) => i.name === image.name)?.repositories[0] ?? image.name;
    const ref = `${repo}:${handoffTag(run.id, plan.handoffScope, rec.platform)}`;
    const args = tagArgs([ref], [image.source], { [HANDOFF_ANNOTATION]: registryRecord(rec, image) });
    await withRetry(`Writing the hand-off record ${ref}`, () => runner.docker(args, { silent: true }), retry);
    refs.push(ref);
  }
  return refs;
}

export async function saveHandoff(
  plan: Plan,
  records: HandoffRecord[],
  store: CacheStore,
  run: WorkflowRun,
  runner: Runner,
  o: HandoffOptions = {}
): Promise<void> {
  try {
    for (const rec of records) {
      const key = handoffKey(run.id, plan.handoffScope, rec.platform, run.attempt);
      const cached = await saveToCache(rec, key, store, o.sleep ?? realSleep);
      if (cached.saved) {
        core.info(`Handed ${rec.platform} to the merge job (cache entry ${key}): ${rec.images.map((i) => i.source).join(', ')}`);
        continue;
      }
      const why = `${refusalReason(cached.refusal)}: ${cached.refusal.detail}`;
      let refs: string[];
      try {
        refs = await saveToRegistry(plan, rec, run, runner, o.retry ?? DEFAULT_RETRY);
      } catch (e) {
        throw new Error(
          `Could not hand ${rec.platform} to the merge job: the GitHub Actions cache did not take its record (${why}), and neither did the registry (${(e as Error).message.split('\n')[0]}). Re-run this job.`,
          { cause: e }
        );
      }
      core.warning(
        `The GitHub Actions cache did not take the hand-off record of ${rec.platform} (${why}); it is in the registry instead, where the merge job reads it: ${refs.join(', ')}`
      );
    }
  } finally {
    rmSync(dir(), { recursive: true, force: true });
  }
}

/** The records of the registry for a platform the cache has none of: each image's hand-off index of this run. */
async function restoreFromRegistry(
  plan: Plan,
  platform: string,
  run: WorkflowRun,
  runner: Runner,
  retry: RetryOptions
): Promise<HandoffRecord | undefined> {
  const found: (Record<string, string> | undefined)[] = [];
  for (const img of plan.images.filter((i) => i.platforms.includes(platform))) {
    const ref = `${img.repositories[0] ?? img.name}:${handoffTag(run.id, plan.handoffScope, platform)}`;
    try {
      found.push(await annotationsOf(ref, runner, retry));
    } catch (e) {
      core.warning(`${platform}: could not read ${ref} from the registry: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  return recordFromRegistry(platform, found);
}

/** The newest record of each platform in this workflow run (a re-run job writes a newer attempt): from the cache, else from the registry. */
export async function restoreHandoff(
  plan: Plan,
  platforms: string[],
  store: CacheStore,
  run: WorkflowRun,
  runner: Runner,
  o: HandoffOptions = {}
): Promise<Record<string, HandoffRecord | undefined>> {
  const out: Record<string, HandoffRecord | undefined> = {};
  for (const platform of platforms) {
    rmSync(dir(), { recursive: true, force: true });
    const prefix = handoffPrefix(run.id, plan.handoffScope, platform);
    const hit = await store.restore([HANDOFF_PATH], prefix, [prefix]);
    const rec = hit && existsSync(file()) ? parseRecord(readFileSync(file(), 'utf8')) : undefined;
    if (hit && !rec) core.warning(`The cache entry ${hit} holds no record of a platform run`);
    if (rec?.platform === platform) {
      out[platform] = rec;
      core.info(`${platform}: the platform run's record ${hit}: ${rec.images.map((i) => i.source).join(', ')}`);
      continue;
    }
    const fromRegistry = await restoreFromRegistry(plan, platform, run, runner, o.retry ?? DEFAULT_RETRY);
    out[platform] = fromRegistry;
    core.info(
      fromRegistry
        ? `${platform}: no record in the Actions cache; the platform run's record in the registry (${handoffTag(run.id, plan.handoffScope, platform)}): ${fromRegistry.images.map((i) => i.source).join(', ')}`
        : `${platform}: no record, in the Actions cache nor in the registry`
    );
  }
  rmSync(dir(), { recursive: true, force: true });
  return out;
}
