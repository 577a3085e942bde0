// The version and the tags, from the event and the inputs. Pure. The rules (README: "Tags"):
// - Version, first match wins: the `version` input; a release's tag_name; a dispatch's
//   inputs.version; a pushed tag (refs/tags/<tag>). Without one: branch, sha-<7> and pr-<n> tags.
// - The version tag is the version as given, made a valid Docker tag (a notice when changed).
// - semver-tags: MAJOR.MINOR.PATCH, MAJOR.MINOR, MAJOR for a stable semver version (no MAJOR for
//   0.x); a pre-release adds only its full version. Build metadata is dropped.
//   Semver means: one leading v/V stripped, then strict semver.parse (so "vv1.2.3" is not semver).
//   A semver tag that would not be a valid Docker tag (a >128-char pre-release) is left out, with a
//   notice; so is one equal to a tag already there.
// - Stable: not a release marked prerelease, and no semver pre-release part; a version that is
//   not semver is stable only from a release not marked prerelease. latest: auto → stable only;
//   true → any version; false → never. Without a version: never stable, never latest.
// - An explicit `version` input that is blank, sanitizes to nothing or is over 128 characters is an
//   error naming the input; other invalid characters are replaced, as for event versions (notice).
//   Event versions over 128 characters are cut (notice).
// - pushByDefault: a release, a workflow_dispatch or a pushed tag, and only with a version (a
//   dispatch without one does not push: README "Tags"). Never for branches, PRs, schedule.
// - A version with quotes, shell metacharacters or white space is refused, naming its source.
// - Without a version: a branch over 128 characters is cut with a hash of the whole name; a pull
//   request's sha- tag is its head commit (the payload's pull_request.head.sha).
// - fromFork: a pull_request(_target) whose head repo is a fork, differs from the base repo, or is
//   gone (a deleted fork): unknown counts as a fork, since a fork never logs in or pushes.
import { createHash } from 'node:crypto';
import semver from 'semver';
import { isValidTag, sanitizeTag, TAG_FORM } from './reference.js';
import type { EventContext, ReleaseInfo, Tristate } from './types.js';

export interface VersionOptions {
  version?: string;
  latest: Tristate;
  semverTags: boolean;
}

type Payload = {
  release?: { tag_name?: unknown; prerelease?: unknown };
  inputs?: { version?: unknown };
  number?: unknown;
  pull_request?: {
    number?: unknown;
    head?: { sha?: unknown; repo?: { fork?: unknown; full_name?: unknown } };
    base?: { repo?: { full_name?: unknown } };
  };
};

const PR_EVENTS = ['pull_request', 'pull_request_target'];

export function parseSemver(version: string): semver.SemVer | null {
  const bare = version.replace(/^[vV]/, '');
  // semver.parse itself accepts a "v" prefix and surrounding white space; allow neither twice.
  return /^[0-9]/.test(bare) && bare === bare.trim() ? semver.parse(bare, { loose: false }) : null;
}

function findVersion(ctx: EventContext, input: string | undefined): { version?: string; source: ReleaseInfo['source'] } {
  const p = ctx.payload as Payload;
  if (input !== undefined) return { version: input, source: 'input' };
  if (ctx.eventName === 'release' && typeof p.release?.tag_name === 'string' && p.release.tag_name !== '') {
    return { version: p.release.tag_name, source: 'release' };
  }
  if (ctx.eventName === 'workflow_dispatch' && typeof p.inputs?.version === 'string' && p.inputs.version.trim() !== '') {
    return { version: p.inputs.version.trim(), source: 'dispatch' };
  }
  if (ctx.ref.startsWith('refs/tags/') && ctx.ref.length > 'refs/tags/'.length)
    return { version: ctx.ref.slice('refs/tags/'.length), source: 'tag' };
  return { source: 'none' };
}

export function isFork(ctx: EventContext): boolean {
  if (!PR_EVENTS.includes(ctx.eventName)) return false;
  const pr = (ctx.payload as Payload).pull_request;
  const head = pr?.head?.repo;
  if (!head) return true; // no head repo (a deleted fork) or no pull_request at all: assume a fork
  return head.fork === true || head.full_name !== pr?.base?.repo?.full_name;
}

// White space too: as VERSION it splits `-ldflags "-X main.version=$VERSION"` into two arguments.
const UNSAFE_VERSION_CHARS = /["'`$;|&<>\\(){}!*?\s]/g;

export function resolveRelease(ctx: EventContext, opts: VersionOptions): ReleaseInfo {
  const notices: string[] = [];
  const { version, source } = findVersion(ctx, opts.version);
  const p = ctx.payload as Payload;
  // push: auto pushes a release, a manual dispatch or a pushed tag; never without a version.
  const pushByDefault =
    version !== undefined &&
    (['release', 'workflow_dispatch'].includes(ctx.eventName) || (ctx.eventName === 'push' && ctx.ref.startsWith('refs/tags/')));
  const fromFork = isFork(ctx);

  if (version === undefined) {
    return { source, tags: refTags(ctx, notices), stable: false, pushByDefault, fromFork, notices };
  }

  // The version becomes a build arg (VERSION) that Dockerfiles splice into -ldflags and shell
  // lines: quotes and shell metacharacters are refused, not passed on or silently changed.
  // (A blank version is refused below as one that cannot be a tag.)
  const unsafe = version.trim() === '' ? [] : [...new Set(version.match(UNSAFE_VERSION_CHARS) ?? [])];
  if (unsafe.length > 0) {
    const where = {
      input: 'Input "version"',
      release: 'The release tag_name',
      dispatch: 'The dispatch input "version"',
      tag: 'The pushed tag'
    }[source as 'input' | 'release' | 'dispatch' | 'tag'];
    throw new Error(
      `${where} ${JSON.stringify(version)} is not valid: it contains ${unsafe.map((c) => JSON.stringify(c)).join(' ')}. ` +
        'Expected a version of letters, digits and . _ - + / without white space (e.g. v1.2.3)'
    );
  }
  const versionTag = sanitizeTag(version);
  if (source === 'input' && (versionTag === '' || version.length > 128)) {
    throw new Error(`Input "version": ${JSON.stringify(version)} cannot be a Docker tag (expected ${TAG_FORM})`);
  }
  if (versionTag === '') throw new Error(`The ${source} version ${JSON.stringify(version)} cannot be a Docker tag (expected ${TAG_FORM})`);
  if (versionTag !== version) notices.push(`version "${version}" is not a valid Docker tag: tagged "${versionTag}"`);

  const sv = parseSemver(version);
  const markedPrerelease = ctx.eventName === 'release' && p.release?.prerelease === true;
  const stable = sv ? sv.prerelease.length === 0 && !markedPrerelease : source === 'release' && !markedPrerelease;

  const tags = [versionTag];
  if (opts.semverTags && sv) {
    const extra =
      sv.prerelease.length > 0
        ? [sv.version]
        : [`${sv.major}.${sv.minor}.${sv.patch}`, `${sv.major}.${sv.minor}`, ...(sv.major > 0 ? [`${sv.major}`] : [])];
    for (const t of extra) {
      if (!isValidTag(t)) notices.push(`semver tag "${t}" is not a valid Docker tag: left out`);
      else if (!tags.includes(t)) tags.push(t);
    }
  }
  if (opts.latest === 'true' || (opts.latest === 'auto' && stable)) tags.push('latest');
  if (!tags.every(isValidTag)) throw new Error(`internal: invalid tag in ${tags.join(', ')}`);
  return { version, source, tags, stable, pushByDefault, fromFork, notices };
}

/** The longest tag Docker takes. */
const MAX_TAG = 128;

/**
 * Pure: a branch name as a tag. One over 128 characters is cut and ends with 8 hex of a hash of the
 * whole name, so two long branches that differ only at the end never share a tag.
 */
export function branchTag(branch: string, notices: string[] = []): string {
  const tag = sanitizeTag(branch.length > MAX_TAG ? branch.slice(0, MAX_TAG + 1) : branch);
  if (branch.length <= MAX_TAG || tag === '') return tag;
  const cut = `${tag.slice(0, MAX_TAG - 9)}-${createHash('sha256').update(branch).digest('hex').slice(0, 8)}`;
  notices.push(`branch "${branch.slice(0, 40)}…" (${branch.length} characters) is longer than a tag may be: tagged "${cut}"`);
  return cut;
}

/**
 * Tags without a version: the branch, sha-<7 hex>, pr-<number>. A pull request's sha- tag names
 * its head commit (the one the user pushed), not GITHUB_SHA, the temporary merge commit.
 */
function refTags(ctx: EventContext, notices: string[]): string[] {
  const p = ctx.payload as Payload;
  const tags: string[] = [];
  let sha = ctx.sha;
  if (PR_EVENTS.includes(ctx.eventName)) {
    const n = p.pull_request?.number ?? p.number;
    if (typeof n === 'number' || (typeof n === 'string' && /^\d+$/.test(n))) tags.push(`pr-${n}`);
    const head = p.pull_request?.head?.sha;
    if (typeof head === 'string' && /^[0-9a-f]{40}$/i.test(head)) sha = head;
  } else if (ctx.ref.startsWith('refs/heads/')) {
    const b = branchTag(ctx.ref.slice('refs/heads/'.length), notices);
    if (b !== '') tags.push(b);
  }
  if (/^[0-9a-f]{7,}$/i.test(sha)) tags.push(`sha-${sha.slice(0, 7).toLowerCase()}`);
  return tags;
}
