// Tags, after every image was pushed by digest and checked: every tag of every name in every
// registry (`buildx imagetools create`: an index of what was pushed by digest, with the index
// annotations), floating tags (latest, MAJOR, MAJOR.MINOR) only where they do not move backwards;
// then the digest and sizes read back from the registry. Every tag is retried on transient faults.
import * as core from '@actions/core';
import { tagArgs } from '../plan/commands/registry.js';
import { decideFloat, floatingTags } from '../plan/floating.js';
import { indexDigestOf } from '../plan/index-manifest.js';
import type { Plan, PlannedImage } from '../plan/types.js';
import { currentVersion, inspectRemote } from './registry.js';
import { DEFAULT_RETRY, withRetry, type RetryOptions } from './retry.js';
import type { Runner } from './runner.js';

export interface TaggedImage {
  digest: string;
  sizes: Record<string, number>;
}

/** Creates every tag of an image from what was pushed by digest, then reads the result back. */
export async function tagImage(
  img: PlannedImage,
  sources: string[],
  runner: Runner,
  pushed: (ref: string) => void,
  retry: RetryOptions = DEFAULT_RETRY
): Promise<TaggedImage> {
  const annotations = img.annotations;
  const first = img.refs[0];
  // The index every tag will hold (a new one, with the annotations), known before any tag exists:
  // reported when the tags cannot be read back. Once, not retried: the tags themselves are.
  const planned = first
    ? indexDigestOf((await runner.docker(tagArgs(first, sources, annotations, true), { silent: true, allowFailure: true })).stdout)
    : '';
  for (const ref of img.refs) {
    await withRetry(`Tagging ${ref}`, () => runner.docker(tagArgs(ref, sources, annotations), { silent: true }), retry);
    core.info(`Tagged ${ref}`);
    pushed(ref);
  }
  if (!first) return { digest: '', sizes: {} };
  try {
    return await inspectRemote(first, runner, retry);
  } catch (e) {
    // Tagged, but not read back: the digest of the index the dry run printed.
    core.warning(
      `${img.name} was tagged${planned ? ` (${planned})` : ''}, but could not be read back from the registry, so its sizes are not reported: ${(e as Error).message.split('\n')[0]}`
    );
    return { digest: planned, sizes: {} };
  }
}

/**
 * Every tag of every image, from what was pushed by digest (`sources[i]` for `plan.images[i]`):
 * floating tags that would move backwards are left (floatingTagsToKeep). `tagged` hears, per
 * image, the tags it gets (before they are created) and then what was read back; `pushed` hears
 * of every ref as soon as it is in a registry: a run that fails half-way still reports exactly
 * what it left. Returns what `tagged` heard last, per image.
 */
export async function tagAll(
  plan: Plan,
  sources: string[][],
  runner: Runner,
  hear: { pushed: (ref: string) => void; tagged: (i: number, t: TaggedImage & { tags: string[] }) => void },
  dryRun = false
): Promise<(TaggedImage & { tags: string[] })[]> {
  const keep = await floatingTagsToKeep(plan, runner, DEFAULT_RETRY, dryRun);
  const out: (TaggedImage & { tags: string[] })[] = [];
  for (const [i, img] of plan.images.entries()) {
    const refs = img.refs.filter((r) => !keep.has(r));
    hear.tagged(i, { tags: refs, digest: '', sizes: {} });
    const t = { tags: refs, ...(await tagImage({ ...img, refs }, sources[i] ?? [], runner, hear.pushed)) };
    hear.tagged(i, t);
    out.push(t);
  }
  return out;
}

/**
 * Floating tags never move backwards: for each floating tag (latest, MAJOR, MAJOR.MINOR) of each
 * repository, the version it holds now is read; a tag this release would take back to older code
 * is left where it is, with a notice naming the version that keeps it. Returns the refs to leave.
 * A dry run reads the same way and says so where it could not look.
 */
export async function floatingTagsToKeep(
  plan: Plan,
  runner: Runner,
  retry: RetryOptions = DEFAULT_RETRY,
  dryRun = false
): Promise<Set<string>> {
  const keep = new Set<string>();
  const version = plan.release.version;
  const floats = floatingTags(plan.release);
  if (version === undefined || floats.length === 0) return keep;
  for (const img of plan.images) {
    for (const repo of img.repositories) {
      for (const tag of floats) {
        const ref = `${repo}:${tag}`;
        if (!img.refs.includes(ref)) continue;
        let current: string | null | undefined;
        try {
          current = await currentVersion(ref, runner, retry);
        } catch (e) {
          const why = (e as Error).message.split('\n')[0];
          if (dryRun)
            core.info(`Dry run: did not look which version ${ref} holds (the registry could not be read: ${why}); a real run decides`);
          else core.warning(`Could not read which version ${ref} holds, so it moves as the tag rules say: ${why}`);
          continue;
        }
        const d = decideFloat(tag, version, current, plan.latest === 'true');
        if (d.move) core.info(`${ref} ${dryRun ? 'would move' : 'moves'} to ${version}: ${d.reason}`);
        else {
          core.notice(`${ref} ${dryRun ? 'would not be' : 'is not'} moved to ${version}: ${d.reason}`);
          keep.add(ref);
        }
      }
    }
  }
  return keep;
}
