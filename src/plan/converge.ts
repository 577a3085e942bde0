// Floating tags that converge when releases run at once, pure. The registry has no compare-and-swap:
// an older release may read `latest`, decide to move it, and write after a newer release finished.
// So each run, after its floating-tag writes, looks again: for each floating tag it wrote, if the
// tag still holds what this run put there and the repository has a higher version entitled to that
// tag, the run points the tag at that version's index. Entitled: a version whose own index lists
// the tag in its FLOATING_ANNOTATION (the floating tags its release takes by the tag rules, so a
// release marked pre-release or published with `latest: false` never gets `latest` this way), and
// for `latest` a version with no pre-release part. A tag that holds something else now was
// overwritten by another run, whose own check looks after it. Version tags are written before
// floating tags, so the last run to finish sees every version, and every floating tag ends on the
// highest version entitled to it.
import type { SemVer } from 'semver';
import semver from 'semver';
import { parseSemver } from './version.js';

/** The index annotation that lists the floating tags a release takes by the tag rules, space-separated. */
export const FLOATING_ANNOTATION = 'io.github.go-docker-publish.floating';

/** The index annotations of a release's images: the OCI ones and, when it floats, FLOATING_ANNOTATION. */
export function withFloatingAnnotation(annotations: Record<string, string>, floating: string[]): Record<string, string> {
  return floating.length === 0 ? annotations : { ...annotations, [FLOATING_ANNOTATION]: floating.join(' ') };
}

/** Whether a version belongs under a floating tag: `latest` any stable version, `2` the 2.x.y, `2.3` the 2.3.y. */
export function inFamily(tag: string, v: SemVer): boolean {
  if (v.prerelease.length > 0) return false;
  if (tag === 'latest') return true;
  const [major, minor, extra] = tag.split('.');
  if (extra !== undefined || !/^\d+$/.test(major ?? '')) return false;
  return v.major === Number(major) && (minor === undefined || (/^\d+$/.test(minor) && v.minor === Number(minor)));
}

export interface Candidate {
  version: string;
  /** A tag of the repository that names it (its version tag, or MAJOR.MINOR.PATCH). */
  tag: string;
}

/**
 * The versions in the repository's tags higher than `holds` that belong under `floating`, highest
 * first, one tag each (the one spelled as the version, else the first). Tags that are not a full
 * semver version (floating tags, branches, sha-…) are not versions.
 */
export function higherVersions(floating: string, holds: string, tags: string[]): Candidate[] {
  const now = parseSemver(holds);
  if (!now) return [];
  const byVersion = new Map<string, { v: SemVer; tags: string[] }>();
  for (const t of tags) {
    const v = parseSemver(t);
    if (!v || !inFamily(floating, v) || !semver.gt(v, now)) continue;
    const key = v.version;
    const e = byVersion.get(key) ?? { v, tags: [] };
    e.tags.push(t);
    byVersion.set(key, e);
  }
  return [...byVersion.values()]
    .sort((a, b) => semver.rcompare(a.v, b.v))
    .map((e) => ({ version: e.v.version, tag: e.tags.find((t) => /^[vV]/.test(t)) ?? e.tags[0] ?? '' }));
}

/** Whether a version's index (its annotations) takes this floating tag by its own release's rules. */
export function entitled(floating: string, annotations: Record<string, string> | undefined): boolean {
  return (annotations?.[FLOATING_ANNOTATION] ?? '').split(' ').includes(floating);
}

/** What one look at a floating tag this run wrote finds. */
export type FloatCheck =
  /** It holds what this run put there, and nothing higher is entitled to it: it stays. */
  | { kind: 'kept' }
  /** Another run wrote it since: not this run's to fix (that run checks it), and not in this run's outputs. */
  | { kind: 'overwritten'; holds: string | null | undefined }
  /** It holds what this run put there, which is lower than a version entitled to it: look at those. */
  | { kind: 'behind'; candidates: Candidate[] }
  /** Not comparable (not semver): left as written. */
  | { kind: 'not-semver' };

/** `wrote`: the version this run last put under the tag; `holds`: the version its image carries now (null: no tag). */
export function checkFloat(floating: string, wrote: string, holds: string | null | undefined, tags: string[]): FloatCheck {
  const w = parseSemver(wrote);
  if (!w) return { kind: 'not-semver' };
  const h = holds ? parseSemver(holds) : null;
  if (!h || h.compare(w) !== 0) return { kind: 'overwritten', holds };
  const candidates = higherVersions(floating, wrote, tags);
  return candidates.length === 0 ? { kind: 'kept' } : { kind: 'behind', candidates };
}

/** How many times a run looks again after moving a tag (a newer release may still be writing). */
export const CONVERGE_ROUNDS = 3;
