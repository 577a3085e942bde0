// resolveRelease (src/plan/version.ts): version, tags, stable, latest, push by default, forks,
// table-tested with the real webhook payloads in __tests__/fixtures/events/.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { isValidTag } from '../../src/plan/reference.js';
import type { EventContext, ReleaseInfo, Tristate } from '../../src/plan/types.js';
import { branchTag, resolveRelease } from '../../src/plan/version.js';

type EventFile = 'release-published' | 'release-prerelease' | 'workflow-dispatch' | 'push-tag' | 'push-branch' | 'pull-request-fork';
type Payload = Record<string, unknown>;

const FALLBACK_SHA = '89e6c98d92887913cadf06b2adb97f26cde4849b';
const load = (name: EventFile): Payload =>
  JSON.parse(readFileSync(new URL(`../fixtures/events/${name}.json`, import.meta.url), 'utf8')) as Payload;
const obj = (v: unknown): Payload => (v !== null && typeof v === 'object' ? (v as Payload) : {});

/** An EventContext as the runner builds it for each payload (sha from the payload where it has one). */
function ctxFor(name: EventFile, over: Partial<EventContext> = {}): EventContext {
  const payload = load(name);
  const release = obj(payload.release);
  const pr = obj(payload.pull_request);
  const per: Record<EventFile, Pick<EventContext, 'eventName' | 'ref' | 'sha'>> = {
    'release-published': { eventName: 'release', ref: `refs/tags/${String(release.tag_name)}`, sha: FALLBACK_SHA },
    'release-prerelease': { eventName: 'release', ref: `refs/tags/${String(release.tag_name)}`, sha: FALLBACK_SHA },
    'workflow-dispatch': { eventName: 'workflow_dispatch', ref: String(payload.ref), sha: FALLBACK_SHA },
    'push-tag': { eventName: 'push', ref: String(payload.ref), sha: String(payload.after) },
    'push-branch': { eventName: 'push', ref: String(payload.ref), sha: String(payload.after) },
    'pull-request-fork': { eventName: 'pull_request', ref: 'refs/pull/42/merge', sha: String(obj(pr.head).sha) }
  };
  return { ...per[name], payload, repository: 'example/tunnel', serverUrl: 'https://github.com', ...over };
}

/** The published release, with another tag_name and prerelease flag. */
function release(tag: string, prerelease: boolean): EventContext {
  const c = ctxFor('release-published', { ref: `refs/tags/${tag}` });
  return { ...c, payload: { ...c.payload, release: { ...obj(c.payload.release), tag_name: tag, prerelease } } };
}
/** The dispatch payload with other inputs. */
function dispatch(inputs: Record<string, string>): EventContext {
  const c = ctxFor('workflow-dispatch');
  return { ...c, payload: { ...c.payload, inputs } };
}
function branch(name: string): EventContext {
  return ctxFor('push-branch', { ref: `refs/heads/${name}` });
}

interface Opts {
  version?: string;
  latest?: Tristate;
  semverTags?: boolean;
}
const resolve = (ctx: EventContext, o: Opts = {}): ReleaseInfo =>
  resolveRelease(ctx, { version: o.version, latest: o.latest ?? 'auto', semverTags: o.semverTags ?? false });

const SHA_BRANCH = 'sha-3f78685';
const SHA_PR = 'sha-a94a8fe';
const SHA_FALLBACK = 'sha-89e6c98';

type Want = Pick<ReleaseInfo, 'version' | 'source' | 'tags' | 'stable' | 'pushByDefault' | 'fromFork'>;
const summary = (r: ReleaseInfo): Want => ({
  version: r.version,
  source: r.source,
  tags: r.tags,
  stable: r.stable,
  pushByDefault: r.pushByDefault,
  fromFork: r.fromFork
});

describe('every event payload', () => {
  it.each<[string, EventContext, Opts, Want]>([
    [
      'release-published',
      ctxFor('release-published'),
      { semverTags: true },
      {
        version: 'v2.3.1',
        source: 'release',
        tags: ['v2.3.1', '2.3.1', '2.3', '2', 'latest'],
        stable: true,
        pushByDefault: true,
        fromFork: false
      }
    ],
    [
      'release-published, no semver tags',
      ctxFor('release-published'),
      {},
      { version: 'v2.3.1', source: 'release', tags: ['v2.3.1', 'latest'], stable: true, pushByDefault: true, fromFork: false }
    ],
    [
      'release-prerelease',
      ctxFor('release-prerelease'),
      { semverTags: true },
      {
        version: 'v2.4.0-rc.1',
        source: 'release',
        tags: ['v2.4.0-rc.1', '2.4.0-rc.1'],
        stable: false,
        pushByDefault: true,
        fromFork: false
      }
    ],
    [
      'workflow-dispatch (inputs.version v2.3.0)',
      ctxFor('workflow-dispatch'),
      { semverTags: true },
      {
        version: 'v2.3.0',
        source: 'dispatch',
        tags: ['v2.3.0', '2.3.0', '2.3', '2', 'latest'],
        stable: true,
        pushByDefault: true,
        fromFork: false
      }
    ],
    [
      'push-tag',
      ctxFor('push-tag'),
      { semverTags: true },
      {
        version: 'v1.10.0',
        source: 'tag',
        tags: ['v1.10.0', '1.10.0', '1.10', '1', 'latest'],
        stable: true,
        pushByDefault: true,
        fromFork: false
      }
    ],
    [
      'push-branch',
      ctxFor('push-branch'),
      { semverTags: true },
      {
        version: undefined,
        source: 'none',
        tags: ['feature-ws-keepalive', SHA_BRANCH],
        stable: false,
        pushByDefault: false,
        fromFork: false
      }
    ],
    [
      'pull-request-fork',
      ctxFor('pull-request-fork'),
      { semverTags: true },
      { version: undefined, source: 'none', tags: ['pr-42', SHA_PR], stable: false, pushByDefault: false, fromFork: true }
    ]
  ])('%s', (_name, ctx, o, want) => {
    const r = resolve(ctx, o);
    expect(summary(r)).toEqual(want);
    expect(r.notices).toEqual([]);
    for (const t of r.tags) expect(isValidTag(t)).toBe(true);
  });
});

describe('where the version comes from, first match wins', () => {
  it.each<[string, EventContext, Opts, string | undefined, ReleaseInfo['source']]>([
    ['input over a release', ctxFor('release-published'), { version: 'v9.0.0' }, 'v9.0.0', 'input'],
    ['input over a dispatch', ctxFor('workflow-dispatch'), { version: 'v9.0.0' }, 'v9.0.0', 'input'],
    ['input over a pushed tag', ctxFor('push-tag'), { version: 'v9.0.0' }, 'v9.0.0', 'input'],
    ['input on a branch push', ctxFor('push-branch'), { version: 'v9.0.0' }, 'v9.0.0', 'input'],
    ['release tag_name over its ref', release('v2.3.1', false), {}, 'v2.3.1', 'release'],
    ['dispatch inputs.version', dispatch({ version: 'v2.3.0' }), {}, 'v2.3.0', 'dispatch'],
    ['dispatch inputs.version, blank: none', dispatch({ version: '  ' }), {}, undefined, 'none'],
    ['dispatch without inputs.version', dispatch({}), {}, undefined, 'none'],
    ['dispatch from a tag ref without a version input', { ...dispatch({}), ref: 'refs/tags/v3.1.0' }, {}, 'v3.1.0', 'tag'],
    ['pushed tag', ctxFor('push-tag'), {}, 'v1.10.0', 'tag'],
    ['branch', ctxFor('push-branch'), {}, undefined, 'none'],
    ['schedule', ctxFor('push-branch', { eventName: 'schedule', ref: 'refs/heads/master' }), {}, undefined, 'none'],
    ['pull request', ctxFor('pull-request-fork'), {}, undefined, 'none']
  ])('%s', (_name, ctx, o, version, source) => {
    const r = resolve(ctx, o);
    expect(r.version).toBe(version);
    expect(r.source).toBe(source);
  });
});

describe('stable: the release flag and the semver pre-release part', () => {
  it.each<[string, EventContext, boolean]>([
    ['release v2.3.1, not marked', release('v2.3.1', false), true],
    ['release v2.5.0 marked prerelease', release('v2.5.0', true), false],
    ['release v2.4.0-rc.1 not marked (semver pre-release)', release('v2.4.0-rc.1', false), false],
    ['release v2.4.0-rc.1 marked', release('v2.4.0-rc.1', true), false],
    ['release 2.3.1 (no v)', release('2.3.1', false), true],
    ['release V2.3.1 (capital V)', release('V2.3.1', false), true],
    ['release v1.2.3+build.7 (build metadata)', release('v1.2.3+build.7', false), true],
    ['release 2026.11.22 (calendar, parses as semver)', release('2026.11.22', false), true],
    ['release 2026.11 (not semver, from a release)', release('2026.11', false), true],
    ['release nightly-5 (not semver, from a release)', release('nightly-5', false), true],
    ['release nightly-5 marked prerelease', release('nightly-5', true), false],
    ['dispatch nightly-5 (not semver, not a release)', dispatch({ version: 'nightly-5' }), false],
    ['dispatch 2026.11 (not semver, not a release)', dispatch({ version: '2026.11' }), false],
    ['dispatch v2.3.0', dispatch({ version: 'v2.3.0' }), true],
    ['dispatch v3.0.0-beta.2', dispatch({ version: 'v3.0.0-beta.2' }), false],
    ['pushed tag v1.10.0', ctxFor('push-tag'), true],
    ['pushed tag nightly-5 (not semver)', ctxFor('push-tag', { ref: 'refs/tags/nightly-5' }), false],
    ['no version', ctxFor('push-branch'), false]
  ])('%s → stable %s', (_name, ctx, stable) => {
    expect(resolve(ctx).stable).toBe(stable);
  });

  it('a version input that is not semver is not stable, even on a release event', () => {
    expect(resolve(ctxFor('release-published'), { version: 'nightly-5' }).stable).toBe(false);
  });
  it('a stable semver version input is stable, except on a release marked prerelease (the flag still applies)', () => {
    expect(resolve(ctxFor('release-prerelease'), { version: 'v2.4.0' }).stable).toBe(false);
    expect(resolve(ctxFor('push-branch'), { version: 'v2.4.0' }).stable).toBe(true);
  });
});

describe('semver tags', () => {
  it.each<[string, EventContext, string[]]>([
    ['v-prefixed', release('v2.3.1', false), ['v2.3.1', '2.3.1', '2.3', '2', 'latest']],
    ['v-less: no duplicate of the version tag', release('2.3.1', false), ['2.3.1', '2.3', '2', 'latest']],
    ['capital V', release('V2.3.1', false), ['V2.3.1', '2.3.1', '2.3', '2', 'latest']],
    ['build metadata dropped', release('v1.2.3+build.7', false), ['v1.2.3-build.7', '1.2.3', '1.2', '1', 'latest']],
    ['calendar version', release('2026.11.22', false), ['2026.11.22', '2026.11', '2026', 'latest']],
    ['0.x: no major tag', release('v0.4.2', false), ['v0.4.2', '0.4.2', '0.4', 'latest']],
    ['0.0.x: no major tag', release('0.0.3', false), ['0.0.3', '0.0', 'latest']],
    ['pre-release: only the full version', release('v2.4.0-rc.1', false), ['v2.4.0-rc.1', '2.4.0-rc.1']],
    ['v-less pre-release: nothing added', release('2.4.0-rc.1', false), ['2.4.0-rc.1']],
    ['pre-release with build metadata', release('v2.4.0-rc.1+b.3', false), ['v2.4.0-rc.1-b.3', '2.4.0-rc.1']],
    ['marked prerelease, stable semver: all, no latest', release('v2.5.0', true), ['v2.5.0', '2.5.0', '2.5', '2']],
    ['not semver', release('nightly-5', false), ['nightly-5', 'latest']],
    ['not semver: two components', release('2026.11', false), ['2026.11', 'latest']],
    ['not strict semver: leading zero', release('v01.2.3', false), ['v01.2.3', 'latest']],
    ['not semver: two v prefixes', release('vv1.2.3', false), ['vv1.2.3', 'latest']]
  ])('%s', (_name, ctx, tags) => {
    expect(resolve(ctx, { semverTags: true }).tags).toEqual(tags);
  });

  it('no semver tags unless asked', () => {
    expect(resolve(release('v2.3.1', false)).tags).toEqual(['v2.3.1', 'latest']);
  });

  it('a semver pre-release too long to be a tag is left out with a notice; the version tag is cut', () => {
    const v = `1.0.0-${'a'.repeat(140)}`;
    const r = resolve(release(v, false), { semverTags: true });
    expect(r.tags).toEqual([v.slice(0, 128)]);
    for (const t of r.tags) expect(isValidTag(t)).toBe(true);
    expect(r.notices.join('\n')).toMatch(/left out/);
  });
});

describe('latest', () => {
  const stable = release('v2.3.1', false);
  const pre = ctxFor('release-prerelease');
  it.each<[string, EventContext, Tristate, boolean]>([
    ['stable, auto', stable, 'auto', true],
    ['stable, true', stable, 'true', true],
    ['stable, false', stable, 'false', false],
    ['pre-release, auto', pre, 'auto', false],
    ['pre-release, true', pre, 'true', true],
    ['pre-release, false', pre, 'false', false],
    ['dispatch nightly-5 (not stable), true', dispatch({ version: 'nightly-5' }), 'true', true],
    ['no version, auto', ctxFor('push-branch'), 'auto', false],
    ['no version, true: still never', ctxFor('push-branch'), 'true', false],
    ['pull request, true: still never', ctxFor('pull-request-fork'), 'true', false]
  ])('%s → latest %s', (_name, ctx, latest, has) => {
    const r = resolve(ctx, { latest, semverTags: true });
    expect(r.tags.includes('latest')).toBe(has);
    if (has) expect(r.tags[r.tags.length - 1]).toBe('latest');
  });
});

describe('tags without a version', () => {
  it.each<[string, EventContext, string[]]>([
    ['branch with /', ctxFor('push-branch'), ['feature-ws-keepalive', SHA_BRANCH]],
    ['branch with / and uppercase keeps case', branch('Feature/WS'), ['Feature-WS', SHA_BRANCH]],
    ['branch with dots and underscores', branch('release_1.x'), ['release_1.x', SHA_BRANCH]],
    ['dispatch without inputs.version: its branch', dispatch({}), ['master', SHA_FALLBACK]],
    ['schedule: its branch', ctxFor('push-branch', { eventName: 'schedule', ref: 'refs/heads/main' }), ['main', SHA_BRANCH]],
    ['pull request: pr-N and sha, no branch', ctxFor('pull-request-fork'), ['pr-42', SHA_PR]],
    [
      'uppercase sha is lowercased',
      ctxFor('push-branch', { sha: '3F786850E387550FDAB836ED7E6DC881DE23001B' }),
      ['feature-ws-keepalive', SHA_BRANCH]
    ],
    ['no sha: no sha tag', ctxFor('push-branch', { sha: '' }), ['feature-ws-keepalive']],
    ['not a branch ref, not a PR: only the sha', ctxFor('push-branch', { eventName: 'schedule', ref: '' }), [SHA_BRANCH]]
  ])('%s', (_name, ctx, tags) => {
    const r = resolve(ctx, { latest: 'true', semverTags: true });
    expect(r.tags).toEqual(tags);
    expect(r.version).toBeUndefined();
    expect(r.stable).toBe(false);
  });

  it('pull_request_target, with the number only at the top level', () => {
    const c = ctxFor('pull-request-fork', { eventName: 'pull_request_target' });
    const pr = { ...obj(c.payload.pull_request) };
    delete pr.number;
    const r = resolve({ ...c, payload: { ...c.payload, number: 7, pull_request: pr } });
    expect(r.tags).toEqual(['pr-7', SHA_PR]);
    expect(r.fromFork).toBe(true);
  });

  it.each(['$(id)', '-x', '.hidden', '--rf', 'a b;c', 'x'.repeat(300)])('branch %j cannot become a flag or an invalid tag', (b) => {
    const r = resolve(branch(b));
    const tag = r.tags[0] ?? '';
    expect(isValidTag(tag)).toBe(true);
    expect(tag.startsWith('-')).toBe(false);
    expect(tag).toMatch(/^[A-Za-z0-9_.-]+$/);
  });
  it('branch $(id) becomes _-id-', () => {
    expect(resolve(branch('$(id)')).tags[0]).toBe('_-id-');
  });

  it('a pull request on a real runner (GITHUB_SHA is the merge commit): the sha tag names the head commit', () => {
    const r = resolve(ctxFor('pull-request-fork', { sha: 'c3d0be41ecbe669545ee3e94d31ed9a4bc91ee3c' }));
    expect(r.tags).toEqual(['pr-42', SHA_PR]);
  });

  it('two branches over 128 characters that differ only at the end get different tags, cut with a hash, and a notice', () => {
    const long = `feature/${'x'.repeat(150)}`;
    const a = resolve(branch(`${long}-a`));
    const b = resolve(branch(`${long}-b`));
    for (const r of [a, b]) {
      expect(r.tags[0]).toHaveLength(128);
      expect(r.tags[0]).toMatch(/^feature-x+-[0-9a-f]{8}$/);
      expect(isValidTag(r.tags[0] ?? '')).toBe(true);
      expect(r.notices.join('\n')).toMatch(/is longer than a tag may be: tagged "feature-x+-[0-9a-f]{8}"/);
    }
    expect(a.tags[0]).not.toBe(b.tags[0]);
    expect(branchTag('main')).toBe('main');
    expect(branchTag('x'.repeat(128))).toBe('x'.repeat(128));
  });
});

describe('a version with white space is refused, wherever it comes from, before anything runs', () => {
  it.each<[string, EventContext, Opts, RegExp]>([
    ['the version input', ctxFor('push-branch'), { version: 'has space' }, /^Input "version" "has space" is not valid: it contains " "/],
    ['a release tag_name', release('v1.0 beta', false), {}, /^The release tag_name "v1\.0 beta" is not valid: it contains " "/],
    [
      'a dispatch input (inner space)',
      dispatch({ version: ' v1 .2 ' }),
      {},
      /^The dispatch input "version" "v1 \.2" is not valid: it contains " "/
    ],
    ['a tab', ctxFor('push-branch'), { version: 'v1\t2' }, /it contains "\\t"/]
  ])('%s', (_what, ctx, o, message) => {
    expect(() => resolve(ctx, o)).toThrow(message);
    expect(() => resolve(ctx, o)).toThrow(/without white space/);
  });
});

describe('a version that is not a valid tag', () => {
  it('a release tag_name that is not a tag (slash, colon) is sanitized, with a notice naming old and new', () => {
    const odd = 'Release:2026/11';
    const r = resolve(release(odd, false), { semverTags: true });
    expect(r.version).toBe(odd);
    expect(r.tags[0]).toBe('Release-2026-11');
    for (const t of r.tags) expect(t).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/);
    expect(r.notices).toHaveLength(1);
    expect(r.notices[0]).toContain(odd);
    expect(r.notices[0]).toContain('Release-2026-11');
  });

  it('build metadata: + becomes -, with a notice; still stable', () => {
    const r = resolve(release('v1.2.3+build.7', false));
    expect(r.tags).toEqual(['v1.2.3-build.7', 'latest']);
    expect(r.stable).toBe(true);
    expect(r.notices.join('\n')).toMatch(/"v1\.2\.3\+build\.7".*"v1\.2\.3-build\.7"/);
  });

  it('an event version over 128 characters is cut, with a notice', () => {
    const long = `v1-${'x'.repeat(200)}`;
    const r = resolve(dispatch({ version: long }));
    expect(r.tags).toEqual([long.slice(0, 128)]);
    expect(r.notices).toHaveLength(1);
  });

  it('a pushed tag with a leading dot becomes _...', () => {
    expect(resolve(ctxFor('push-tag', { ref: 'refs/tags/.v1' })).tags[0]).toBe('_v1');
  });

  it.each<[string, string, string]>([
    ['build metadata', 'v1.0.0+build.7', 'v1.0.0-build.7'],
    ['a slash', 'release/1.0', 'release-1.0'],
    ['a leading dash', '-v1', '_v1']
  ])('a version input with %s is sanitized with a notice', (_name, input, tag) => {
    const r = resolve(ctxFor('push-branch'), { version: input });
    expect(r.tags[0]).toBe(tag);
    expect(r.source).toBe('input');
    expect(r.notices).toHaveLength(1);
  });

  it('a version input of exactly 128 valid characters is fine', () => {
    const v = 'v'.repeat(128);
    expect(resolve(ctxFor('push-branch'), { version: v }).tags[0]).toBe(v);
  });

  it.each<[string, string]>([
    ['white space only', '   '],
    ['empty (when a caller passes it)', ''],
    ['over 128 characters', `v1.0.0-${'x'.repeat(130)}`]
  ])('a version input that is %s is an error naming the input and the form', (_name, v) => {
    const call = (): ReleaseInfo => resolve(ctxFor('release-published'), { version: v });
    expect(call).toThrow(`Input "version": ${JSON.stringify(v)} cannot be a Docker tag (expected [A-Za-z0-9_][A-Za-z0-9_.-]{0,127})`);
  });
});

describe('push by default', () => {
  it.each<[string, EventContext, Opts, boolean]>([
    ['release', ctxFor('release-published'), {}, true],
    ['pre-release', ctxFor('release-prerelease'), {}, true],
    ['dispatch with a version', ctxFor('workflow-dispatch'), {}, true],
    ['dispatch with a version input', dispatch({}), { version: 'v1.0.0' }, true],
    // README "Tags": a dispatch without a version does not push by default (no version).
    ['dispatch without a version', dispatch({}), {}, false],
    ['pushed tag', ctxFor('push-tag'), {}, true],
    ['pushed branch', ctxFor('push-branch'), {}, false],
    ['pushed branch with a version input', ctxFor('push-branch'), { version: 'v1.0.0' }, false],
    ['schedule', ctxFor('push-branch', { eventName: 'schedule', ref: 'refs/heads/master' }), {}, false],
    ['schedule with a version input', ctxFor('push-branch', { eventName: 'schedule' }), { version: 'v1.0.0' }, false],
    ['pull request', ctxFor('pull-request-fork'), {}, false],
    ['pull request with a version input', ctxFor('pull-request-fork'), { version: 'v1.0.0' }, false]
  ])('%s → %s', (_name, ctx, o, push) => {
    expect(resolve(ctx, o).pushByDefault).toBe(push);
  });
});

describe('pull requests from forks', () => {
  const pr = ctxFor('pull-request-fork');
  const withHead = (repo: unknown, eventName = 'pull_request'): EventContext => {
    const p = obj(pr.payload.pull_request);
    return { ...pr, eventName, payload: { ...pr.payload, pull_request: { ...p, head: { ...obj(p.head), repo } } } };
  };
  it.each<[string, EventContext, boolean]>([
    ['the fork payload', pr, true],
    ['pull_request_target from a fork', { ...pr, eventName: 'pull_request_target' }, true],
    ['head repo is the base repo', withHead({ full_name: 'example/tunnel', fork: false }), false],
    ['head repo differs, not flagged fork', withHead({ full_name: 'someone/tunnel', fork: false }), true],
    ['head repo flagged fork, same name', withHead({ full_name: 'example/tunnel', fork: true }), true],
    ['head repo gone (deleted fork)', withHead(null), true],
    ['same repo, pull_request_target', withHead({ full_name: 'example/tunnel', fork: false }, 'pull_request_target'), false],
    ['a push event is never from a fork', ctxFor('push-branch'), false],
    ['a push event with a fork-looking payload is not a PR', { ...pr, eventName: 'push' }, false]
  ])('%s → %s', (_name, ctx, fork) => {
    expect(resolve(ctx).fromFork).toBe(fork);
  });
});
