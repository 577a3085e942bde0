// Which GitHub Actions cache service the runner gives the step, from its variables. Pure.
// github.com's runners give node actions ACTIONS_CACHE_SERVICE_V2, ACTIONS_RESULTS_URL and
// ACTIONS_RUNTIME_TOKEN (the v1 service, ACTIONS_CACHE_URL, was shut down there on 2025-04-15);
// GHES still gives ACTIONS_CACHE_URL. buildx (>= 0.21) and @actions/cache read these variables
// themselves: the action passes them through unchanged and only decides whether there is a cache.

export type CacheProtocol = 'v1' | 'v2';

export interface CacheService {
  protocol?: CacheProtocol;
  /** For the log: which variables decided it, or which are missing. */
  reason: string;
}

/** buildx reads ACTIONS_CACHE_SERVICE_V2 as a Go bool (strconv.ParseBool). */
function truthy(v: string | undefined): boolean {
  return ['1', 't', 'true'].includes((v ?? '').trim().toLowerCase());
}

export function cacheService(env: Record<string, string | undefined>): CacheService {
  if (!env.ACTIONS_RUNTIME_TOKEN) {
    return { reason: 'ACTIONS_RUNTIME_TOKEN is not set (not running on GitHub Actions?)' };
  }
  if (env.ACTIONS_RESULTS_URL && truthy(env.ACTIONS_CACHE_SERVICE_V2)) {
    return { protocol: 'v2', reason: 'the cache service v2 (ACTIONS_CACHE_SERVICE_V2, ACTIONS_RESULTS_URL)' };
  }
  if (env.ACTIONS_CACHE_URL) {
    return { protocol: 'v1', reason: 'the cache service v1 (ACTIONS_CACHE_URL, as on GitHub Enterprise Server)' };
  }
  if (env.ACTIONS_RESULTS_URL) {
    return {
      reason:
        'ACTIONS_RESULTS_URL is set but ACTIONS_CACHE_SERVICE_V2 is not, and there is no ACTIONS_CACHE_URL: buildx would use no cache service'
    };
  }
  return { reason: 'neither ACTIONS_RESULTS_URL (cache service v2) nor ACTIONS_CACHE_URL (v1) is set' };
}
