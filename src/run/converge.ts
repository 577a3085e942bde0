// Floating tags converge after this run's tags are written (plan/converge.ts says why and how): for
// each floating tag this run wrote, read what it holds now and the repository's tags; where a
// higher version entitled to it is there, point the tag at that version's index (a carbon copy of
// it: `imagetools create` from one index source, no annotations), with a notice naming both
// versions; look again after moving anything, a few rounds at most. Returns the refs this run
// wrote and did not leave in place (moved back, or overwritten by another run since), which the
// outputs then leave out. `latest: true` keeps the `latest` it forced. A registry that cannot be
// read here is a warning: the tags stay as written.
import * as core from '@actions/core';
import { tagArgs } from '../plan/commands/registry.js';
import { CONVERGE_ROUNDS, checkFloat, entitled } from '../plan/converge.js';
import { floatingTags } from '../plan/floating.js';
import type { Plan } from '../plan/types.js';
import { annotationsOf, currentVersion } from './registry.js';
import type { TagLister } from './registry-tags.js';
import { DEFAULT_RETRY, withRetry, type RetryOptions } from './retry.js';
import type { Runner } from './runner.js';

interface Tracked {
  ref: string;
  repo: string;
  tag: string;
  /** The version this run last put under the tag. */
  wrote: string;
}

const firstLine = (e: unknown): string => (e as Error).message.split('\n')[0] ?? '';

/** `written[i]`: the refs of plan.images[i] this run wrote. */
export async function convergeFloating(
  plan: Plan,
  written: { tags: string[] }[],
  runner: Runner,
  lister: TagLister | undefined,
  o: { dryRun?: boolean; retry?: RetryOptions } = {}
): Promise<Set<string>> {
  const notLeft = new Set<string>();
  const version = plan.release.version;
  const floats = floatingTags(plan.release).filter((t) => !(t === 'latest' && plan.latest === 'true'));
  if (version === undefined || floats.length === 0) return notLeft;
  if (o.dryRun) {
    core.info(`Dry run: a real run then checks the floating tags it wrote (${floats.join(', ')}) against the versions the registry holds`);
    return notLeft;
  }
  if (!lister) return notLeft;
  const retry = o.retry ?? DEFAULT_RETRY;
  let tracked: Tracked[] = plan.images.flatMap((img, i) =>
    img.repositories.flatMap((repo) =>
      floats.map((tag) => ({ ref: `${repo}:${tag}`, repo, tag, wrote: version })).filter((t) => written[i]?.tags.includes(t.ref))
    )
  );
  for (let round = 1; round <= CONVERGE_ROUNDS && tracked.length > 0; round++) {
    const again: Tracked[] = [];
    for (const repo of [...new Set(tracked.map((t) => t.repo))]) {
      let tags: string[];
      try {
        tags = await lister.tags(repo);
      } catch (e) {
        core.warning(`Could not list the tags of ${repo}, so its floating tags were not checked after writing them: ${firstLine(e)}`);
        continue;
      }
      for (const t of tracked.filter((x) => x.repo === repo)) {
        if (await lookAgain(t, tags, runner, retry, notLeft, version)) again.push(t);
      }
    }
    tracked = again;
  }
  return notLeft;
}

/** One look at one floating tag; true when it moved it (so the next round looks again). */
async function lookAgain(
  t: Tracked,
  tags: string[],
  runner: Runner,
  retry: RetryOptions,
  notLeft: Set<string>,
  version: string
): Promise<boolean> {
  let holds: string | null | undefined;
  try {
    holds = await currentVersion(t.ref, runner, retry);
  } catch (e) {
    core.warning(`Could not read which version ${t.ref} holds after writing it: ${firstLine(e)}`);
    return false;
  }
  const check = checkFloat(t.tag, t.wrote, holds, tags);
  if (check.kind === 'overwritten') {
    if (!notLeft.has(t.ref)) {
      core.notice(
        `${t.ref} holds ${holds ?? 'nothing'} now, written by another run after this one's ${version}: it is not among this run's tags`
      );
      notLeft.add(t.ref);
    }
    return false;
  }
  if (check.kind !== 'behind') return false;
  for (const c of check.candidates) {
    const source = `${t.repo}:${c.tag}`;
    let annotations: Record<string, string> | undefined;
    try {
      annotations = await annotationsOf(source, runner, retry);
    } catch (e) {
      core.warning(`Could not read ${source} to see whether it takes ${t.tag}: ${firstLine(e)}`);
      continue;
    }
    if (!entitled(t.tag, annotations)) continue;
    await withRetry(`Moving ${t.ref} to ${c.version}`, () => runner.docker(tagArgs([t.ref], [source]), { silent: true }), retry);
    core.notice(
      `${t.ref} moved back to ${c.version} (${source}): it held ${t.wrote}, and ${c.version}, newer, was published by another run at the same time`
    );
    notLeft.add(t.ref);
    t.wrote = c.version;
    return true;
  }
  return false;
}
