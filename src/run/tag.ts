// Tags, after every image was pushed by digest and checked: every tag of every name in every
// registry (`buildx imagetools create`: an index of what was pushed by digest, with the index
// annotations; per image one call for the version tags, then one for the floating tags, each of
// which copies into every repository and registry), floating tags (latest, MAJOR, MAJOR.MINOR)
// only where they do not move backwards. The index's digest is known before any tag exists
// (`--dry-run`, read at the same time as the floating tags), and its sizes come from what the
// check read: nothing is read back twice. Every tag is retried on transient faults.
import * as core from '@actions/core';
import { explainRefusal } from '../plan/auth-failure.js';
import { tagArgs } from '../plan/commands/registry.js';
import { decideFloat, floatingTags } from '../plan/floating.js';
import { indexDigestOf, type IndexDoc } from '../plan/index-manifest.js';
import { registryOf } from '../plan/reference.js';
import type { Plan, PlannedImage } from '../plan/types.js';
import { currentVersion, indexSizes, knownContent, readRaw, tagDigest } from './registry.js';
import { DEFAULT_RETRY, withRetry, type RetryOptions } from './retry.js';
import type { Runner } from './runner.js';

export interface TaggedImage {
  digest: string;
  sizes: Record<string, number>;
}

/** A reference's repository (without the tag or digest). */
const repositoryOf = (ref: string): string => ref.replace(/@.*$/, '').replace(/:[^:/]+$/, '');

/** The index an image's tags will hold, as the dry run printed it before any tag exists: its digest ('' when it printed none) and bytes. */
export interface PlannedIndex {
  digest: string;
  bytes?: string;
}

/**
 * The index every tag of an image will hold (a new one, with the annotations): `imagetools
 * create --dry-run` prints it, and its digest is what the tags name. Once, not retried: the tags
 * themselves are. `dryRun`: the recording runner prints no index; the digest is a placeholder and
 * the index an empty one.
 */
export async function plannedIndex(img: PlannedImage, sources: string[], runner: Runner, dryRun = false): Promise<PlannedIndex> {
  const dry = await runner.docker(tagArgs(img.refs, sources, img.annotations, true), { silent: true, allowFailure: true });
  if (dryRun) return { digest: '<index digest>', bytes: '{}' };
  const digest = indexDigestOf(dry.stdout);
  return digest ? { digest, bytes: dry.stdout.replace(/\n$/, '') } : { digest };
}

/**
 * Creates every tag of an image (`img.refs`) from what was pushed by digest: its version tags in
 * one call, then its floating tags (`floating`: latest, MAJOR, MAJOR.MINOR) in another, so that
 * in each repository every version tag is there before any floating tag (converge.ts counts on
 * it). Returns the index digest (the planned one) and the sizes (from the manifests the check
 * read). What the tags name is then known without a read (attest.ts reads the index).
 */
export async function tagImage(
  img: PlannedImage,
  sources: string[],
  planned: PlannedIndex,
  runner: Runner,
  pushed: (ref: string) => void,
  retry: RetryOptions = DEFAULT_RETRY,
  floating: readonly string[] = []
): Promise<TaggedImage> {
  const refs = img.refs;
  const first = refs[0];
  if (!first) return { digest: '', sizes: {} };
  const floats = (ref: string): boolean => floating.includes(ref.slice(ref.lastIndexOf(':') + 1));
  for (const batch of [refs.filter((r) => !floats(r)), refs.filter(floats)].filter((b) => b.length > 0)) {
    try {
      await withRetry(
        `Tagging ${batch.join(', ')}`,
        () => runner.docker(tagArgs(batch, sources, img.annotations), { silent: true }),
        retry
      );
    } catch (e) {
      // What the failed call left: the tags that name this index now are pushed.
      for (const ref of await tagsHolding(batch, planned.digest, runner)) pushed(ref);
      throw explainRefusal(e, `the tags ${batch.join(', ')}`, registryOf(batch[0] ?? first));
    }
    for (const ref of batch) {
      core.info(`Tagged ${ref}`);
      pushed(ref);
    }
  }
  try {
    if (planned.bytes !== undefined) {
      for (const repo of new Set(refs.map(repositoryOf))) knownContent(`${repo}@${planned.digest}`, planned.bytes, runner);
      const index = JSON.parse(planned.bytes) as IndexDoc;
      return { digest: planned.digest, sizes: await indexSizes(index, repositoryOf(sources[0] ?? first), runner, retry) };
    }
    // No index printed (an older buildx): the tag itself tells.
    const index = await readRaw<IndexDoc>(first, runner, retry);
    return { digest: await tagDigest(first, runner, retry), sizes: await indexSizes(index, repositoryOf(first), runner, retry) };
  } catch (e) {
    core.warning(
      `${img.name} was tagged${planned.digest ? ` (${planned.digest})` : ''}, but its sizes could not be read from the registry, so they are not reported: ${(e as Error).message.split('\n')[0]}`
    );
    return { digest: planned.digest, sizes: {} };
  }
}

/** Of `refs`, those that name `digest` now (one try each: this is a failure's report). */
async function tagsHolding(refs: string[], digest: string, runner: Runner): Promise<string[]> {
  if (!digest) return [];
  const once = { ...DEFAULT_RETRY, attempts: 1 };
  const held = await Promise.all(
    refs.map((ref) =>
      tagDigest(ref, runner, once).then(
        (d) => d === digest,
        () => false
      )
    )
  );
  return refs.filter((_, k) => held[k]);
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
  // Reads only, at once: which floating tags stay, and every image's planned index.
  const [keep, planned] = await Promise.all([
    floatingTagsToKeep(plan, runner, DEFAULT_RETRY, dryRun),
    Promise.all(plan.images.map((img, i) => plannedIndex(img, sources[i] ?? [], runner, dryRun)))
  ]);
  const floats = floatingTags(plan.release);
  const out: (TaggedImage & { tags: string[] })[] = [];
  for (const [i, img] of plan.images.entries()) {
    const refs = img.refs.filter((r) => !keep.has(r));
    hear.tagged(i, { tags: refs, digest: '', sizes: {} });
    const index = planned[i] ?? { digest: '' };
    const tagged = await tagImage({ ...img, refs }, sources[i] ?? [], index, runner, hear.pushed, DEFAULT_RETRY, floats);
    const t = { tags: refs, ...tagged };
    hear.tagged(i, t);
    out.push(t);
  }
  return out;
}

/**
 * Floating tags never move backwards: for each floating tag (latest, MAJOR, MAJOR.MINOR) of each
 * repository, the version it holds now is read; a tag this release would take back to older code
 * is left where it is, with a notice naming the version that keeps it. Returns the refs to leave.
 * The tags are read at once. A dry run reads the same way and says so where it could not look.
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
  // Every floating tag of every repository read at once; decided in the plan's order.
  const refs = plan.images.flatMap((img) =>
    img.repositories.flatMap((repo) => floats.map((tag) => ({ ref: `${repo}:${tag}`, tag })).filter((f) => img.refs.includes(f.ref)))
  );
  const read = await Promise.all(
    refs.map(({ ref }) =>
      currentVersion(ref, runner, retry).then(
        (current) => ({ current }),
        (e: unknown) => ({ error: (e as Error).message.split('\n')[0] ?? '' })
      )
    )
  );
  refs.forEach(({ ref, tag }, k) => {
    const r = read[k] ?? { error: 'not read' };
    if ('error' in r) {
      if (dryRun)
        core.info(`Dry run: did not look which version ${ref} holds (the registry could not be read: ${r.error}); a real run decides`);
      else core.warning(`Could not read which version ${ref} holds, so it moves as the tag rules say: ${r.error}`);
      return;
    }
    const d = decideFloat(tag, version, r.current, plan.latest === 'true');
    if (d.move) core.info(`${ref} ${dryRun ? 'would move' : 'moves'} to ${version}: ${d.reason}`);
    else {
      core.notice(`${ref} ${dryRun ? 'would not be' : 'is not'} moved to ${version}: ${d.reason}`);
      keep.add(ref);
    }
  });
  return keep;
}
