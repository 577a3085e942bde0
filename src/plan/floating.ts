// Floating tags never move backwards. Pure: which tags of a release float (latest, MAJOR,
// MAJOR.MINOR), and whether one moves to this release given the version the image it names now
// carries (its org.opencontainers.image.version label, which the action writes).
import semver from 'semver';
import type { ReleaseInfo } from './types.js';
import { parseSemver } from './version.js';

export const VERSION_LABEL = 'org.opencontainers.image.version';

/** The tags of a release that another release may hold: `latest`, and the semver `MAJOR`, `MAJOR.MINOR`. */
export function floatingTags(release: ReleaseInfo): string[] {
  const sv = release.version === undefined ? null : parseSemver(release.version);
  return release.tags.filter(
    (t) => t === 'latest' || (sv !== null && sv.prerelease.length === 0 && (t === `${sv.major}` || t === `${sv.major}.${sv.minor}`))
  );
}

export interface FloatDecision {
  move: boolean;
  /** For the log: why it moves, or which version keeps it. */
  reason: string;
}

/**
 * current: the version the tag's image carries now; null when the tag is not there, undefined when
 * its image has no version label. A tag moves when the new version is semver-greater or equal;
 * `latest: true` moves `latest` whatever it holds.
 */
export function decideFloat(tag: string, version: string, current: string | null | undefined, forceLatest: boolean): FloatDecision {
  if (tag === 'latest' && forceLatest) return { move: true, reason: 'latest: true moves it whatever it holds' };
  if (current === null) return { move: true, reason: 'not there yet' };
  if (current === undefined) return { move: true, reason: `its image carries no ${VERSION_LABEL} label` };
  const next = parseSemver(version);
  const now = parseSemver(current);
  if (!next || !now) return { move: true, reason: `${current} or ${version} is not semver: nothing to compare` };
  if (semver.gte(next, now)) return { move: true, reason: `${version} is not older than ${current}, which it holds now` };
  return { move: false, reason: `it holds ${current}, newer than ${version}` };
}
