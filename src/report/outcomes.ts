// What happened to each image, filled in as the phases go (build, smoke, push, tags, signature,
// attestations): the one record the outputs and the job summary are written from.
import { refusalFromBuildKit, refusalReason } from '../plan/cache-refusal.js';
import type { Plan } from '../plan/types.js';

export interface ImageOutcome {
  name: string;
  /** The tags this run creates (a floating tag kept by a newer release is not among them). */
  tags: string[];
  /**
   * The index digest the image's tags name, once every tag was created: the one `imagetools
   * create --dry-run` gave before tagging (nothing is read back after the tags), or, from a buildx
   * that prints no index, read back from the first tag. mode: platform: the digest pushed untagged for the merge job. '' otherwise: nothing
   * tagged yet, a tag that failed half-way (the pushed-tags output says which exist), a dry run.
   */
  digest: string;
  platforms: string[];
  smoke: 'passed' | 'skipped' | 'failed';
  /** platform → the engine's ID of the image that was smoke-tested (what push.ts checked the registry against). */
  tested?: Record<string, string>;
  size: Record<string, number>;
  buildSeconds?: number;
  cache?: string;
  goCache?: string;
  /** The Go cache mounts the derived Dockerfile added, per line (run/derived-dockerfile.ts). */
  derived?: string;
  /** The index digest signed with cosign, and per repository the command that verifies it. */
  signature?: { digest: string; verify: string[] };
  /** The attestations made after signing (smoke-test statement, GitHub's), each with its digests and verify commands. */
  attestations?: { predicateType: string; by: 'cosign' | 'github'; digests: string[]; verify: string[] }[];
}

export function planOutcomes(plan: Plan): ImageOutcome[] {
  return plan.images.map((i) => ({ name: i.name, tags: i.refs, digest: '', platforms: i.platforms, smoke: 'skipped', size: {} }));
}

/** Build time and what the cache gave, per image. */
export function recordBuilds(
  plan: Plan,
  outcomes: ImageOutcome[],
  builds: { seconds: number; cachedSteps: number; totalSteps: number; cacheErrors: { import?: string; export?: string } }[],
  cacheAvailable: boolean
): void {
  builds.forEach((b, i) => {
    const o = outcomes[i];
    if (!o) return;
    o.buildSeconds = b.seconds;
    o.cache = cacheAvailable
      ? `${plan.cache}: ${b.cachedSteps} of ${b.totalSteps} steps cached` +
        (b.cacheErrors.import ? '; cache not read (the cache service failed)' : '') +
        (b.cacheErrors.export ? `; cache not saved (${refusalReason(refusalFromBuildKit(b.cacheErrors.export))})` : '')
      : `none: ${b.cachedSteps} of ${b.totalSteps} steps from the builder's local cache`;
  });
}

/** The smoke result of each image (failed if any platform failed) and the image ID each tested platform ran. */
export function recordSmoke(
  plan: Plan,
  outcomes: ImageOutcome[],
  smoke: { image: string; platform: string; status: ImageOutcome['smoke']; imageId?: string }[]
): void {
  plan.images.forEach((img, i) => {
    const mine = smoke.filter((s) => s.image === img.name);
    const o = outcomes[i];
    if (!o) return;
    o.smoke = mine.some((s) => s.status === 'failed') ? 'failed' : mine.every((s) => s.status === 'skipped') ? 'skipped' : 'passed';
    o.tested = Object.fromEntries(mine.flatMap((s) => (s.imageId ? [[s.platform, s.imageId]] : [])));
  });
}

/** The tags an image gets and, once they exist, what was read back of them. */
export function recordTags(
  outcomes: ImageOutcome[],
  i: number,
  t: { tags: string[]; digest: string; sizes: Record<string, number> }
): void {
  const o = outcomes[i];
  if (!o) return;
  o.tags = t.tags;
  o.digest = t.digest;
  o.size = t.sizes;
}

/** mode: platform: no tags; the digest is the untagged one pushed for the merge job. */
export function recordHandedOff(outcomes: ImageOutcome[], sources: string[][]): void {
  outcomes.forEach((o, i) => {
    o.tags = [];
    o.digest = (sources[i]?.[0] ?? '').split('@')[1] ?? '';
  });
}

/** mode: merge: what the platform runs tested, per image. */
export function recordMerged(outcomes: ImageOutcome[], tested: Record<string, string>[]): void {
  outcomes.forEach((o, i) => {
    const ids = tested[i] ?? {};
    o.smoke = Object.keys(ids).length > 0 ? 'passed' : 'skipped';
    o.tested = ids;
  });
}

/** Refs this run wrote and did not leave in place (run/converge.ts): out of the tags and the pushed refs. */
export function recordNotLeft(outcomes: ImageOutcome[], pushedRefs: string[], notLeft: ReadonlySet<string>): void {
  if (notLeft.size === 0) return;
  for (const o of outcomes) o.tags = o.tags.filter((t) => !notLeft.has(t));
  const kept = pushedRefs.filter((r) => !notLeft.has(r));
  pushedRefs.splice(0, pushedRefs.length, ...kept);
}
