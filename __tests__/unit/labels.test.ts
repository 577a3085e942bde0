// OCI labels and default build args (src/plan/labels.ts), with the real webhook payloads.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { defaultBuildArgs, ociLabels } from '../../src/plan/labels.js';
import type { EventContext, ReleaseInfo } from '../../src/plan/types.js';
import { resolveRelease } from '../../src/plan/version.js';

type EventFile = 'release-published' | 'release-prerelease' | 'workflow-dispatch' | 'push-tag' | 'push-branch' | 'pull-request-fork';
type Payload = Record<string, unknown>;

const SHA = '3f786850e387550fdab836ed7e6dc881de23001b';
const PR_SHA = 'a94a8fe5ccb19ba61c4c0873d391e987982fbbd3';
const L = 'org.opencontainers.image.';
const load = (name: EventFile): Payload =>
  JSON.parse(readFileSync(new URL(`../fixtures/events/${name}.json`, import.meta.url), 'utf8')) as Payload;

/** head_commit.timestamp 2026-10-30T08:00:00+01:00 of the push payloads, in seconds. */
const PUSH_TIME = Date.parse('2026-10-30T08:00:00+01:00') / 1000;

function ctxFor(name: EventFile, over: Partial<EventContext> = {}): EventContext {
  const payload = load(name);
  const per: Record<EventFile, Pick<EventContext, 'eventName' | 'ref' | 'sha'>> = {
    'release-published': { eventName: 'release', ref: 'refs/tags/v2.3.1', sha: SHA },
    'release-prerelease': { eventName: 'release', ref: 'refs/tags/v2.4.0-rc.1', sha: SHA },
    'workflow-dispatch': { eventName: 'workflow_dispatch', ref: String(payload.ref), sha: SHA },
    'push-tag': { eventName: 'push', ref: String(payload.ref), sha: String(payload.after) },
    'push-branch': { eventName: 'push', ref: String(payload.ref), sha: String(payload.after) },
    'pull-request-fork': { eventName: 'pull_request', ref: 'refs/pull/42/merge', sha: PR_SHA }
  };
  return { ...per[name], payload, repository: 'example/tunnel', serverUrl: 'https://github.com', commitTime: PUSH_TIME, ...over };
}
const rel = (ctx: EventContext): ReleaseInfo => resolveRelease(ctx, { latest: 'auto', semverTags: true });
/** A payload with its repository object changed. */
const withRepo = (ctx: EventContext, repo: Payload): EventContext => ({
  ...ctx,
  payload: { ...ctx.payload, repository: { ...(ctx.payload.repository as Payload), ...repo } }
});

describe('ociLabels per event', () => {
  const common = {
    [`${L}title`]: 'tunnel',
    [`${L}source`]: 'https://github.com/example/tunnel',
    [`${L}url`]: 'https://github.com/example/tunnel',
    [`${L}created`]: '2026-10-30T07:00:00Z'
  };
  it.each<[EventFile, Record<string, string>]>([
    [
      'release-published',
      {
        [`${L}version`]: 'v2.3.1',
        [`${L}revision`]: SHA,
        [`${L}licenses`]: 'MIT',
        [`${L}description`]: 'SSH tunnels in a container'
      }
    ],
    ['release-prerelease', { [`${L}version`]: 'v2.4.0-rc.1', [`${L}revision`]: SHA }],
    ['workflow-dispatch', { [`${L}version`]: 'v2.3.0', [`${L}revision`]: SHA }],
    ['push-tag', { [`${L}version`]: 'v1.10.0', [`${L}revision`]: SHA }],
    // No version: the first tag stands for it.
    ['push-branch', { [`${L}version`]: 'feature-ws-keepalive', [`${L}revision`]: SHA }],
    ['pull-request-fork', { [`${L}version`]: 'pr-42', [`${L}revision`]: PR_SHA }]
  ])('%s', (name, want) => {
    const ctx = ctxFor(name);
    expect(ociLabels(ctx, rel(ctx), 'tunnel', {})).toEqual({ ...common, ...want });
  });
});

describe('ociLabels details', () => {
  const ctx = ctxFor('release-published');

  it('user labels win over generated ones and are kept', () => {
    const l = ociLabels(ctx, rel(ctx), 'tunnel', { [`${L}title`]: 'Tunnel', [`${L}licenses`]: 'Apache-2.0', team: 'infra' });
    expect(l[`${L}title`]).toBe('Tunnel');
    expect(l[`${L}licenses`]).toBe('Apache-2.0');
    expect(l.team).toBe('infra');
    expect(l[`${L}version`]).toBe('v2.3.1');
  });

  it('no commit time: no created label (never the wall clock)', () => {
    const l = ociLabels({ ...ctx, commitTime: undefined }, rel(ctx), 'tunnel', {});
    expect(l).not.toHaveProperty(`${L}created`);
  });

  it.each([Number.NaN, Number.POSITIVE_INFINITY])('an unusable commit time (%s) is treated as unknown', (t) => {
    const c = { ...ctx, commitTime: t };
    expect(ociLabels(c, rel(c), 't', {})).not.toHaveProperty(`${L}created`);
    expect(defaultBuildArgs(c, rel(c), {})).not.toHaveProperty('SOURCE_DATE_EPOCH');
  });

  it('created is ISO 8601 UTC from the commit time', () => {
    const c = { ...ctx, commitTime: 0 };
    expect(ociLabels(c, rel(c), 't', {})[`${L}created`]).toBe('1970-01-01T00:00:00Z');
  });

  it.each<[string, Payload, string | undefined, string | undefined]>([
    ['NOASSERTION licence', { license: { spdx_id: 'NOASSERTION' } }, undefined, 'SSH tunnels in a container'],
    ['null licence', { license: null }, undefined, 'SSH tunnels in a container'],
    ['null description', { description: null }, 'MIT', undefined],
    ['empty description', { description: '' }, 'MIT', undefined],
    ['Apache-2.0', { license: { spdx_id: 'Apache-2.0' } }, 'Apache-2.0', 'SSH tunnels in a container']
  ])('%s', (_name, repo, licenses, description) => {
    const c = withRepo(ctx, repo);
    const l = ociLabels(c, rel(c), 't', {});
    expect(l[`${L}licenses`]).toBe(licenses);
    expect(l[`${L}description`]).toBe(description);
  });

  it('no html_url in the payload: serverUrl/repository', () => {
    const c = { ...ctx, payload: {}, serverUrl: 'https://ghe.example.com', repository: 'team/app' };
    const l = ociLabels(c, rel(c), 't', {});
    expect(l[`${L}source`]).toBe('https://ghe.example.com/team/app');
    expect(l[`${L}url`]).toBe('https://ghe.example.com/team/app');
  });

  it('the same commit gives the same labels on two runs', () => {
    expect(ociLabels(ctx, rel(ctx), 't', {})).toEqual(ociLabels(ctxFor('release-published'), rel(ctx), 't', {}));
  });
});

describe('defaultBuildArgs', () => {
  const ctx = ctxFor('release-published');
  it.each<[string, EventContext, Record<string, string>, Record<string, string>]>([
    [
      'release: all four',
      ctx,
      {},
      { VERSION: 'v2.3.1', REVISION: SHA, BUILD_DATE: '2026-10-30T07:00:00Z', SOURCE_DATE_EPOCH: String(PUSH_TIME) }
    ],
    [
      'user args win and are kept',
      ctx,
      { VERSION: 'custom', SOURCE_DATE_EPOCH: '0', GOPROXY: 'off' },
      { VERSION: 'custom', REVISION: SHA, BUILD_DATE: '2026-10-30T07:00:00Z', SOURCE_DATE_EPOCH: '0', GOPROXY: 'off' }
    ],
    ['no commit time: no BUILD_DATE, no SOURCE_DATE_EPOCH', { ...ctx, commitTime: undefined }, {}, { VERSION: 'v2.3.1', REVISION: SHA }],
    [
      'no version: the first tag',
      ctxFor('push-branch'),
      {},
      { VERSION: 'feature-ws-keepalive', REVISION: SHA, BUILD_DATE: '2026-10-30T07:00:00Z', SOURCE_DATE_EPOCH: String(PUSH_TIME) }
    ],
    ['pull request', ctxFor('pull-request-fork', { commitTime: undefined }), {}, { VERSION: 'pr-42', REVISION: PR_SHA }]
  ])('%s', (_name, c, user, want) => {
    expect(defaultBuildArgs(c, rel(c), user)).toEqual(want);
  });

  it('BUILD_DATE matches the created label', () => {
    expect(defaultBuildArgs(ctx, rel(ctx), {}).BUILD_DATE).toBe(ociLabels(ctx, rel(ctx), 't', {})[`${L}created`]);
  });
});
