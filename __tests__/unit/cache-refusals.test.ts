// What @actions/cache's saveCache() does when the cache service (the local stand-in, v2) refuses
// a save as github.com does: it never throws, returns -1, and says why in these lines. Pins the
// facts the action's own handling rests on (src/run/go-cache.ts: saved = saveCache() !== -1).
import { describe, expect, it, jest } from '@jest/globals';
import * as cache from '@actions/cache';
import { cacheWorkspace } from '../support/cache-workspace.js';
import { startCacheServer, type CacheServer, type Refusal } from '../support/gha-cache-server.js';

describe('@actions/cache saveCache() against refusals of the cache service v2', () => {
  const workspace = cacheWorkspace('gdp-cache-refusals-');

  /** saveCache of one key against a fresh server with these refusals: its result and its non-debug output lines. */
  async function save(refusals: Refusal[], keys: string[]): Promise<{ results: number[]; lines: string[]; server: CacheServer }> {
    const server = await startCacheServer({ refusals });
    Object.assign(process.env, server.env('v2'));
    const lines: string[] = [];
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(
        ...String(chunk)
          .split('\n')
          .filter((l) => l && !l.startsWith('::debug::') && !l.startsWith('::add-mask::'))
      );
      return true;
    });
    const results: number[] = [];
    try {
      for (const key of keys) results.push(await cache.saveCache([workspace.file()], key));
    } finally {
      spy.mockRestore();
      await server.close();
    }
    return { results, lines: lines.filter((l) => !l.startsWith('[command]') && !l.startsWith('Sent ')), server };
  }

  const reserveFailed = (key: string): string =>
    `Failed to save: Unable to reserve cache with key ${key}, another job may be creating this cache.`;

  it.each<[string, Refusal, string[]]>([
    [
      '429 with Retry-After: a warning, not retried',
      { kind: 'rate-limited' },
      ["::warning::You've hit a rate limit, your rate limit will reset in 1 seconds", reserveFailed('k')]
    ],
    ['429 without Retry-After: only the info line', { kind: 'rate-limited', retryAfter: 0 }, [reserveFailed('k')]],
    ['409 already exists (another job holds the key)', { kind: 'exists' }, [reserveFailed('k')]],
    ['ok:false without a message', { kind: 'not-ok' }, [reserveFailed('k')]],
    [
      'ok:false with a message',
      { kind: 'not-ok', message: 'over the limit' },
      ['::warning::Cache reservation failed: over the limit', reserveFailed('k')]
    ],
    [
      'write denied (a read-only token)',
      { kind: 'write-denied', message: 'cache write denied: read-only' },
      ['::warning::Failed to save: Unable to reserve cache with key k. More details: cache write denied: read-only']
    ],
    ['403 insufficient usage (quota): the UsageError text only in debug', { kind: 'quota' }, [reserveFailed('k')]]
  ])('%s: returns -1', async (_what, refusal, want) => {
    const { results, lines, server } = await save([refusal], ['k']);
    expect(results).toEqual([-1]);
    expect(lines).toEqual(want);
    expect(server.refused()).toEqual({ [refusal.kind]: 1 });
    expect(server.entries()).toEqual([]);
  });

  it('refuses only keys with the prefix, and only `times` times', async () => {
    const refusal: Refusal = { kind: 'rate-limited', keyPrefix: 'go-docker-publish-handoff-', times: 1 };
    const { results, server } = await save([refusal], ['go-docker-publish-handoff-1', 'gdp-go-1', 'go-docker-publish-handoff-2']);
    expect(results[0]).toBe(-1);
    expect(results.slice(1).every((id) => id > 0)).toBe(true);
    expect(server.entries()).toEqual(['gdp-go-1', 'go-docker-publish-handoff-2']);
    expect(server.served.filter((s) => s.op === 'refused').map((s) => s.key)).toEqual(['go-docker-publish-handoff-1']);
  });
});
