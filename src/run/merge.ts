// mode: merge, the job that `needs:` the matrix of platform runs: no build and no smoke test here.
// It finds what each platform run pushed (handoff.ts: the Actions cache, else the registry), checks
// that every expected platform of every image is there, was smoke-tested, and is in the registry as
// the image that ran, and returns what each image's tags are made from and what was tested (and how
// it passed, for the smoke-test attestation): the pipeline then tags (the same tag rules as a
// publish run, floating tags included), signs and attests as a publish run does.
import * as core from '@actions/core';
import { checkRecords } from '../plan/handoff.js';
import { platformsOf } from '../plan/platforms.js';
import type { Plan } from '../plan/types.js';
import type { CacheStore } from './actions-cache.js';
import { restoreHandoff, type WorkflowRun } from './handoff.js';
import { checkPlatform } from './push.js';
import type { Runner } from './runner.js';

export async function mergePlatforms(
  plan: Plan,
  runner: Runner,
  store: CacheStore,
  run: WorkflowRun
): Promise<{ sources: string[][]; tested: Record<string, string>[]; smoke: ReturnType<typeof checkRecords>['smoke'] }> {
  const records = await restoreHandoff(plan, platformsOf(plan.images), store, run, runner);
  const { sources, tested, smoke, problems } = checkRecords(plan, records, { id: run.id, sha: run.sha });
  if (problems.length > 0) {
    throw new Error(`Cannot merge:\n${problems.map((p) => `- ${p}`).join('\n')}\n\nNo tag was created.`);
  }
  for (const [i, img] of plan.images.entries()) {
    const ids = tested[i] ?? {};
    for (const platform of img.platforms) {
      // checkRecords found this image in this platform's record.
      const source = records[platform]?.images.find((r) => r.name === img.name)?.source ?? '';
      await checkPlatform(img.name, source, platform, ids[platform], runner);
    }
    core.info(`${img.name}: every platform is in the registry${Object.keys(ids).length ? ', as the image its platform run tested' : ''}`);
  }
  return { sources, tested, smoke };
}
