// What main leaves for post (core.saveState / GITHUB_STATE): the temporary Docker config, the
// job's instance (the random part of every name it creates), the registries logged in to, the
// builders the action created, the Go caches to save; the pipeline's hooks save each as soon as it
// exists. Post undoes exactly these, and nothing another job created.
import { randomBytes } from 'node:crypto';
import * as core from '@actions/core';
import type { GoCacheEntry } from './go-cache.js';
import type { PipelineHooks } from './pipeline.js';

export interface SavedState {
  dockerConfig?: string;
  /** This job's own part of the names it creates (jobInstance). */
  instance?: string;
  registries: string[];
  /** Builders the action created on the runner (removed with their state). */
  builders?: string[];
  /** Builders the action created on build nodes (removed, their state kept for the next run). */
  nodeBuilders?: string[];
  /** Go caches to copy out of the builder and save. */
  goCache?: GoCacheEntry[];
}

const KEY = 'gdpState';

/**
 * A random part for the names a job creates in the engine and the buildx config: matrix jobs of one
 * workflow run have the same GITHUB_RUN_ID, GITHUB_RUN_ATTEMPT and GITHUB_JOB, and on a self-hosted
 * machine they may share one Docker engine.
 */
export function jobInstance(): string {
  return randomBytes(4).toString('hex');
}

/**
 * The run ID of this job's names (builder go-docker-publish-<it>, Go cache keys): the workflow run
 * and its attempt (or this process, outside a workflow), then the job's own instance.
 */
export function jobRunId(env: NodeJS.ProcessEnv, instance: string): string {
  const run = env.GITHUB_RUN_ID ? `${env.GITHUB_RUN_ID}-${env.GITHUB_RUN_ATTEMPT || '1'}` : String(process.pid);
  return `${run}-${instance}`;
}

export function saveState(s: SavedState): void {
  core.saveState(KEY, JSON.stringify(s));
}

export function loadState(): SavedState {
  const raw = core.getState(KEY);
  if (!raw) return { registries: [] };
  try {
    return { registries: [], ...(JSON.parse(raw) as Partial<SavedState>) };
  } catch {
    return { registries: [] };
  }
}

export function isPost(): boolean {
  return core.getState('isPost') === 'true';
}

export function markPost(): void {
  core.saveState('isPost', 'true');
}

/** The pipeline's hooks of a real run: each thing post must undo is saved in the step's state as soon as it exists. */
export function savingHooks(state: SavedState): PipelineHooks {
  const save = (change: (s: SavedState) => void): void => {
    change(state);
    saveState(state);
  };
  return {
    loggedIn: (r) => save((s) => s.registries.push(r)),
    builderCreated: (b) => save((s) => (s.builders = [...(s.builders ?? []), b])),
    nodeBuilderCreated: (b) => save((s) => (s.nodeBuilders = [...(s.nodeBuilders ?? []), b])),
    goCacheReady: (entry) => save((s) => (s.goCache = [...(s.goCache ?? []), entry]))
  };
}
