import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { decideFloat, floatingTags } from '../../src/plan/floating.js';
import type { EventContext } from '../../src/plan/types.js';
import { resolveRelease } from '../../src/plan/version.js';

const payload = JSON.parse(readFileSync(new URL('../fixtures/events/release-published.json', import.meta.url), 'utf8')) as Record<
  string,
  unknown
>;
const release = (tag: string, prerelease = false): EventContext => ({
  eventName: 'release',
  ref: `refs/tags/${tag}`,
  sha: '3f786850e387550fdab836ed7e6dc881de23001b',
  payload: { ...payload, release: { ...(payload.release as object), tag_name: tag, prerelease } },
  repository: 'example/tunnel',
  serverUrl: 'https://github.com'
});
const floats = (tag: string, prerelease = false): string[] =>
  floatingTags(resolveRelease(release(tag, prerelease), { latest: 'auto', semverTags: true }));

describe('floating tags', () => {
  it.each([
    ['v2.3.1', ['2.3', '2', 'latest']],
    ['v0.4.2', ['0.4', 'latest']],
    ['V1.9.5', ['1.9', '1', 'latest']],
    ['nightly-5', ['latest']]
  ])('%s floats %j (never the version tag nor MAJOR.MINOR.PATCH)', (tag, want) => {
    expect(floats(tag)).toEqual(want);
  });
  it('a pre-release floats nothing', () => {
    expect(floats('v2.4.0-rc.1', true)).toEqual([]);
  });
});

describe('a floating tag moves only forwards', () => {
  it.each<[string, string, string | null | undefined, boolean, boolean]>([
    ['latest', 'v1.9.5', 'v2.3.1', false, false],
    ['2', 'v2.2.9', 'v2.3.1', false, false],
    ['2.3', 'v2.3.2', 'v2.3.1', false, true],
    ['latest', 'v2.3.2', 'v2.3.1', false, true],
    ['latest', 'v2.3.1', 'v2.3.1', false, true],
    ['latest', 'v1.9.5', 'v2.3.1', true, true],
    ['2', 'v2.2.9', 'v2.3.1', true, false],
    ['latest', 'v1.0.0', null, false, true],
    ['latest', 'v1.0.0', undefined, false, true],
    ['latest', 'v10.0.0', 'v9.9.9', false, true],
    ['latest', 'V2.3.2', 'v2.3.1', false, true],
    ['latest', 'nightly-6', 'nightly-5', true, true]
  ])('%s: %s over %j (latest: true %s) moves: %s', (tag, version, current, force, move) => {
    const d = decideFloat(tag, version, current, force);
    expect(d.move).toBe(move);
    if (!move) expect(d.reason).toBe(`it holds ${current ?? ''}, newer than ${version}`);
  });
});
