// The end of a run: the outputs, the job summary, and the step's failure (with the refs a failed
// run had already pushed).
import * as core from '@actions/core';
import type { Plan } from '../plan/types.js';
import type { ImageOutcome } from './outcomes.js';
import type { PhaseTime } from './phases.js';
import { setOutputs } from './outputs.js';
import { partialPush, runNote, writeSummary } from './summary.js';

/** What a run of the pipeline ended with (run/pipeline.ts's result). */
export interface RunResult {
  images: ImageOutcome[];
  pushed: boolean;
  pushedRefs: string[];
  error?: Error;
  /** Where the time went: each phase's start and end. */
  phases?: PhaseTime[];
}

export async function reportRun(plan: Plan, res: RunResult): Promise<void> {
  setOutputs(plan, res.images, res.pushed, res.pushedRefs);
  try {
    await writeSummary(plan, res.images, runNote(plan, res.images, res.pushed, res.pushedRefs, res.error), res.pushedRefs, res.phases);
  } catch (e) {
    core.warning(`Could not write the job summary: ${(e as Error).message}`);
  }
  if (!res.error) return;
  const partial = partialPush(res.images, res.pushedRefs);
  if (partial) core.error(partial);
  core.setFailed(res.error.message);
}
