// The digests a platform run pushed, carried to the merge job through the run's GitHub Actions
// cache (plan/handoff.ts says what and under which key). A save the cache service does not take
// fails the platform run: the merge job would not find its platform. Both modes need a workflow
// run and the cache service: checked before anything runs.
import { mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import * as core from '@actions/core';
import { cacheService } from '../plan/cache-service.js';
import { HANDOFF_PATH, handoffKey, handoffPrefix, parseRecord, type HandoffRecord } from '../plan/handoff.js';
import type { Plan } from '../plan/types.js';
import type { CacheStore } from './go-cache.js';

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

export async function saveHandoff(plan: Plan, records: HandoffRecord[], store: CacheStore, run: WorkflowRun): Promise<void> {
  for (const rec of records) {
    rmSync(dir(), { recursive: true, force: true });
    mkdirSync(dir(), { recursive: true });
    writeFileSync(file(), JSON.stringify(rec, null, 2));
    const key = handoffKey(run.id, plan.handoffScope, rec.platform, run.attempt);
    let saved: boolean;
    try {
      saved = await store.save([HANDOFF_PATH], key);
    } catch (e) {
      throw new Error(
        `Could not hand ${rec.platform} to the merge job: the GitHub Actions cache failed (${(e as Error).message.split('\n')[0]}).`,
        { cause: e }
      );
    }
    if (!saved) throw new Error(`Could not hand ${rec.platform} to the merge job: the GitHub Actions cache did not take the entry ${key}.`);
    core.info(`Handed ${rec.platform} to the merge job (cache entry ${key}): ${rec.images.map((i) => i.source).join(', ')}`);
  }
  rmSync(dir(), { recursive: true, force: true });
}

/** The newest record of each platform in this workflow run (a re-run job writes a newer attempt). */
export async function restoreHandoff(
  plan: Plan,
  platforms: string[],
  store: CacheStore,
  run: WorkflowRun
): Promise<Record<string, HandoffRecord | undefined>> {
  const out: Record<string, HandoffRecord | undefined> = {};
  for (const platform of platforms) {
    rmSync(dir(), { recursive: true, force: true });
    const prefix = handoffPrefix(run.id, plan.handoffScope, platform);
    const hit = await store.restore([HANDOFF_PATH], prefix, [prefix]);
    const rec = hit && existsSync(file()) ? parseRecord(readFileSync(file(), 'utf8')) : undefined;
    if (hit && !rec) core.warning(`The cache entry ${hit} holds no record of a platform run`);
    out[platform] = rec?.platform === platform ? rec : undefined;
    core.info(
      rec ? `${platform}: the platform run's record ${hit}: ${rec.images.map((i) => i.source).join(', ')}` : `${platform}: no record`
    );
  }
  rmSync(dir(), { recursive: true, force: true });
  return out;
}
