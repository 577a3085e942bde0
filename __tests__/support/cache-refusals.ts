// Refusals of the GitHub Actions cache service v2 (Twirp), as github.com answers them, for the local
// stand-in (gha-cache-server.ts): which call is refused, for which keys, how often, and the answer.
// Sources of each answer shape are in __tests__/support/README.md ("Cache service refusals").
// - 'rate-limited': 429 with Retry-After and a Twirp error (code resource_exhausted: Twirp's code for
//   429). github.com: "up to 200 uploads per minute per repository … the time until the rate limit
//   resets is returned in the Retry-After header".
// - 'exists': 409 already_exists "cache entry with the same key, version, and scope already exists":
//   what github.com answers when the entry exists or another job is creating it.
// - 'not-ok': 200 { ok: false, signed_upload_url: '', message }: the service declining without an
//   HTTP error (the `message` field came with @actions/cache 4.1.0's "more specific error codes").
// - 'write-denied': 'not-ok' whose message starts `cache write denied:` (a read-only cache token).
// - 'quota': 403 with a Twirp error whose msg contains "insufficient usage", the text @actions/cache
//   recognises as "Cache storage quota has been hit" (the status and the rest of the text are the
//   artifact service's, which shares the client code: an inference, not seen from the cache service).

/** The Twirp methods of the v2 cache service. */
export type CacheMethod = 'CreateCacheEntry' | 'FinalizeCacheEntryUpload' | 'GetCacheEntryDownloadURL';

export type RefusalKind = 'rate-limited' | 'exists' | 'not-ok' | 'write-denied' | 'quota';

export interface Refusal {
  kind: RefusalKind;
  /** The call refused. Default CreateCacheEntry (the reservation of a save). */
  method?: CacheMethod;
  /** Refuse this many matching calls, then answer normally. Default: every one. */
  times?: number;
  /** Only calls whose key starts with one of these, e.g. 'go-docker-publish-handoff-'. Default: every key. */
  keyPrefix?: string | string[];
  /** 'rate-limited': the Retry-After header in seconds; 0 sends none. Default 1. */
  retryAfter?: number;
  /** 'not-ok', 'write-denied', 'quota': the message (see the defaults below). */
  message?: string;
}

/** An HTTP answer: status, headers, JSON body. */
export interface Answer {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

const DEFAULT_MESSAGE: Record<RefusalKind, string> = {
  'rate-limited': 'cache upload rate limit exceeded (refused by the test cache server)',
  exists: 'cache entry with the same key, version, and scope already exists',
  'not-ok': '',
  'write-denied': 'cache write denied: the cache token of this run is read-only (refused by the test cache server)',
  quota: 'insufficient usage to create cache entry (refused by the test cache server)'
};

/** The service's answer for a refusal of this kind. */
export function refusalAnswer(r: Refusal): Answer {
  const message = r.message ?? DEFAULT_MESSAGE[r.kind];
  const json = { 'Content-Type': 'application/json' };
  switch (r.kind) {
    case 'rate-limited': {
      const after = r.retryAfter ?? 1;
      return {
        status: 429,
        headers: { ...json, ...(after > 0 ? { 'Retry-After': String(after) } : {}) },
        body: { code: 'resource_exhausted', msg: message }
      };
    }
    case 'exists':
      return { status: 409, headers: json, body: { code: 'already_exists', msg: message } };
    case 'quota':
      return { status: 403, headers: json, body: { code: 'permission_denied', msg: message } };
    case 'not-ok':
    case 'write-denied':
      return { status: 200, headers: json, body: notOk(r.method ?? 'CreateCacheEntry', message) };
  }
}

/** A declined call's 200 body, with the fields of that method's response. */
function notOk(method: CacheMethod, message: string): Record<string, unknown> {
  if (method === 'FinalizeCacheEntryUpload') return { ok: false, entry_id: '0', message };
  if (method === 'GetCacheEntryDownloadURL') return { ok: false, signed_download_url: '', matched_key: '' };
  return { ok: false, signed_upload_url: '', message };
}

/** A refusal still to be applied, with how many it has left. */
export interface ActiveRefusal {
  refusal: Refusal;
  left: number;
}

export function activeRefusal(refusal: Refusal): ActiveRefusal {
  return { refusal, left: refusal.times ?? Infinity };
}

/** The first refusal that applies to this call (and uses one of its times), or undefined. */
export function takeRefusal(active: ActiveRefusal[], method: string, key: string): Refusal | undefined {
  const a = active.find(({ refusal: r, left }) => {
    if (left <= 0 || (r.method ?? 'CreateCacheEntry') !== method) return false;
    const prefixes = r.keyPrefix === undefined ? [''] : [r.keyPrefix].flat();
    return prefixes.some((p) => key.startsWith(p));
  });
  if (!a) return undefined;
  a.left--;
  return a.refusal;
}
