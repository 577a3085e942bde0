// A cache service that says no: why a save was refused, read from what @actions/cache 6.3 logs
// (against the local stand-in, refusing as github.com does) and from BuildKit's export error; and
// what the platform run's hand-off does then: tries again within bounds, puts the record in the
// registry beside the image, fails naming the platform and both causes when neither takes it; the
// merge reads the registry's record when the cache has none.
import { describe, expect, it } from '@jest/globals';
import { refusalFromBuildKit, refusalReason, type CacheRefusal } from '../../src/plan/cache-refusal.js';
import { HANDOFF_ANNOTATION, handoffScope, handoffTag, type HandoffRecord } from '../../src/plan/handoff.js';
import type { Plan } from '../../src/plan/types.js';
import { actionsCache, type CacheStore, type SaveResult } from '../../src/run/actions-cache.js';
import { restoreHandoff, saveHandoff } from '../../src/run/handoff.js';
import type { ExecResult } from '../../src/run/runner.js';
import { startCacheServer, type Refusal } from '../support/gha-cache-server.js';
import { cacheWorkspace } from '../support/cache-workspace.js';
import { FakeRunner } from '../support/fake-runner.js';

describe('why the cache service did not take a save (actionsCache.save with @actions/cache 6.3)', () => {
  const workspace = cacheWorkspace('gdp-refused-');

  const save = async (refusal: Refusal): Promise<SaveResult> => {
    const server = await startCacheServer({ refusals: [refusal] });
    Object.assign(process.env, server.env('v2'));
    try {
      return await actionsCache.save([workspace.file()], `k-${Math.random()}`);
    } finally {
      await server.close();
    }
  };

  it.each<[string, Refusal, Partial<CacheRefusal>, RegExp]>([
    [
      '429 with Retry-After',
      { kind: 'rate-limited', retryAfter: 7 },
      { kind: 'rate-limited', retryAfterSeconds: 7 },
      /rate-limiting saves \(429, retry after 7 s\)/
    ],
    ['429 without Retry-After', { kind: 'rate-limited', retryAfter: 0 }, { kind: 'rate-limited' }, /rate-limiting/],
    ['403 insufficient usage (the quota)', { kind: 'quota' }, { kind: 'full' }, /at its cap \(10 GB per repository/],
    ['ok: false, a size message', { kind: 'not-ok', message: 'cache size exceeds the limit' }, { kind: 'full' }, /at its cap/],
    ['ok: false, no message (failed to reserve)', { kind: 'not-ok' }, { kind: 'reserve-refused' }, /refused to reserve the entry/],
    ['409 already exists', { kind: 'exists' }, { kind: 'exists' }, /another job is saving it/],
    ['write denied', { kind: 'write-denied' }, { kind: 'write-denied' }, /refused the write/]
  ])('%s', async (_what, refusal, want, reason) => {
    const r = await save(refusal);
    expect(r.saved).toBe(false);
    if (r.saved) return;
    expect(r.refusal).toMatchObject(want);
    expect(refusalReason(r.refusal)).toMatch(reason);
    expect(r.refusal.detail).not.toBe('');
  });

  it('a save the service takes is saved', async () => {
    const server = await startCacheServer();
    Object.assign(process.env, server.env('v2'));
    try {
      expect(await actionsCache.save([workspace.file()], 'k-ok')).toEqual({ saved: true });
    } finally {
      await server.close();
    }
  });

  it.each([
    ['error writing layer blob: failed to reserve cache', 'reserve-refused'],
    ['error writing layer blob: permission_denied', 'write-denied'],
    ['error writing layer blob: maximum timeout reached: resource_exhausted', 'rate-limited'],
    ['failed to do request: Post "http://127.0.0.1:9/twirp/…": dial tcp 127.0.0.1:9: connect: connection refused', 'unavailable']
  ])('BuildKit: %s', (error, kind) => {
    expect(refusalFromBuildKit(error).kind).toBe(kind);
  });
});

const SHA = '3f786850e387550fdab836ed7e6dc881de23001b';
const run = { id: '991', attempt: '1', sha: SHA };
const plan = {
  handoffScope: handoffScope(['ghcr.io/o/app']),
  release: { version: 'v2.3.1' },
  images: [{ name: 'ghcr.io/o/app', repositories: ['ghcr.io/o/app', 'docker.io/o/app'], platforms: ['linux/amd64'] }]
} as unknown as Plan;
const rec: HandoffRecord = {
  schema: 1,
  run: '991',
  sha: SHA,
  version: 'v2.3.1',
  platform: 'linux/amd64',
  images: [{ name: 'ghcr.io/o/app', source: 'ghcr.io/o/app@sha256:1', smoke: 'passed', tested: 'sha256:5' }]
};
const TAG = `ghcr.io/o/app:${handoffTag('991', plan.handoffScope, 'linux/amd64')}`;

/** A cache that answers each save with the next of `answers` (the last one from then on). */
const refusing = (answers: SaveResult[]): CacheStore & { keys: string[] } => {
  const keys: string[] = [];
  return {
    keys,
    available: () => true,
    restore: async () => undefined,
    save: async (_p, key) => (keys.push(key), answers[Math.min(keys.length - 1, answers.length - 1)] ?? { saved: true })
  };
};
const no = (kind: CacheRefusal['kind'], retryAfterSeconds?: number): SaveResult => ({
  saved: false,
  refusal: { kind, detail: `refused (${kind})`, ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}) }
});

describe('the hand-off when the cache says no', () => {
  const waits: number[] = [];
  const o = { sleep: async (ms: number) => void waits.push(ms), retry: { attempts: 1, baseDelayMs: 0 } };

  it('429 then reserve refused: tried 3 times (after Retry-After, then 4 s), each with a key of its own; then the record goes to the registry', async () => {
    waits.length = 0;
    const cache = refusing([no('rate-limited', 1), no('reserve-refused')]);
    const r = new FakeRunner();
    await saveHandoff(plan, [rec], cache, run, r, o);
    expect(cache.keys.map((k) => k.replace(/^.*@/, '@'))).toEqual(['@1', '@1.2', '@1.3']);
    expect(waits).toEqual([1000, 4000]);
    const create = r.calls.find((c) => c[2] === 'create');
    expect(create?.slice(0, 4)).toEqual(['buildx', 'imagetools', 'create', `--tag=${TAG}`]);
    expect(create?.at(-1)).toBe('ghcr.io/o/app@sha256:1');
    const annotation = create
      ?.find((a) => a.startsWith(`--annotation=index:${HANDOFF_ANNOTATION}=`))
      ?.slice(`--annotation=index:${HANDOFF_ANNOTATION}=`.length);
    expect(JSON.parse(annotation ?? '{}')).toEqual(rec);
  });

  it('a refusal that another try cannot change (the cap) is not tried again', async () => {
    waits.length = 0;
    const cache = refusing([no('full')]);
    await saveHandoff(plan, [rec], cache, run, new FakeRunner(), o);
    expect(cache.keys).toHaveLength(1);
    expect(waits).toEqual([]);
  });

  it('neither the cache nor the registry takes it: fails naming the platform and both causes', async () => {
    const cache = refusing([no('full')]);
    const r = new FakeRunner((a) =>
      a[2] === 'create' ? { exitCode: 1, stderr: 'denied: requested access to the resource is denied' } : {}
    );
    await expect(saveHandoff(plan, [rec], cache, run, r, o)).rejects.toThrow(
      /Could not hand linux\/amd64 to the merge job: the GitHub Actions cache did not take its record \(the repository's Actions cache is at its cap .*refused \(full\)\), and neither did the registry \(.*requested access to the resource is denied.*\)\. Re-run this job\./
    );
  });

  it('the merge: no record in the cache, the registry has it: that record; neither: none', async () => {
    const index = (annotations: Record<string, string>): Partial<ExecResult> => ({
      stdout: JSON.stringify({ schemaVersion: 2, manifests: [], annotations })
    });
    const found = new FakeRunner((a) => (a[3] === TAG ? index({ [HANDOFF_ANNOTATION]: JSON.stringify(rec) }) : {}));
    expect(await restoreHandoff(plan, ['linux/amd64'], refusing([]), run, found, o)).toEqual({ 'linux/amd64': rec });
    const none = new FakeRunner((a) => (a[1] === 'imagetools' ? { exitCode: 1, stderr: `ERROR: ${TAG}: not found` } : {}));
    expect(await restoreHandoff(plan, ['linux/amd64'], refusing([]), run, none, o)).toEqual({ 'linux/amd64': undefined });
    // A hand-off index of another platform (or none of ours) is no record.
    const other = new FakeRunner(() => index({ [HANDOFF_ANNOTATION]: JSON.stringify({ ...rec, platform: 'linux/arm64' }) }));
    expect(await restoreHandoff(plan, ['linux/amd64'], refusing([]), run, other, o)).toEqual({ 'linux/amd64': undefined });
  });
});
