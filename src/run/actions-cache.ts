// The GitHub Actions cache service, as the Go caches and the native runners' hand-off use it:
// @actions/cache, and why a save was not taken. saveCache() never throws for a refusal and returns
// -1; why is only in the lines it logs (a debug line holds the reservation's own error), so the
// save listens to the step's output while it runs and reads the cause from it
// (plan/cache-refusal.ts). Tests and the dry run pass other stores.
import * as cache from '@actions/cache';
import { refusalFromCacheLog, type CacheRefusal } from '../plan/cache-refusal.js';

export type SaveResult = { saved: true } | { saved: false; refusal: CacheRefusal };

/** The cache service, as @actions/cache offers it; tests pass a fake. */
export interface CacheStore {
  available(): boolean;
  /** lookupOnly: only say which entry would be restored, download nothing. */
  restore(paths: string[], key: string, restoreKeys: string[], lookupOnly?: boolean): Promise<string | undefined>;
  /** Whether the service took the entry, and if not, why. Never throws for a refusal. */
  save(paths: string[], key: string): Promise<SaveResult>;
}

/** Runs fn while collecting what is written to stdout (where @actions/core logs), still writing it. */
async function listening<T>(fn: () => Promise<T>): Promise<{ value: T; lines: string[] }> {
  const lines: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
    lines.push(...String(chunk).split('\n').filter(Boolean));
    return (write as (c: string | Uint8Array, ...r: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof process.stdout.write;
  try {
    return { value: await fn(), lines };
  } finally {
    process.stdout.write = write;
  }
}

export const actionsCache: CacheStore = {
  available: () => cache.isFeatureAvailable(),
  restore: (paths, key, restoreKeys, lookupOnly) => cache.restoreCache(paths, key, restoreKeys, { lookupOnly: lookupOnly ?? false }),
  save: async (paths, key) => {
    try {
      const { value, lines } = await listening(() => cache.saveCache(paths, key));
      return value !== -1 ? { saved: true } : { saved: false, refusal: refusalFromCacheLog(lines) };
    } catch (e) {
      // A path or key @actions/cache refuses (ValidationError): a fault of the action, said as it is.
      return { saved: false, refusal: { kind: 'failed', detail: (e as Error).message } };
    }
  }
};
