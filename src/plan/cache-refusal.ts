// Why the GitHub Actions cache service did not take a save, pure: read from what the clients say.
// @actions/cache 6.3 saveCache() never throws and returns -1; the cause is only in its log lines
// (the reservation's own error in a debug line, a rate limit or a declined reservation in a
// warning). BuildKit's gha exporter ends the build's cache step with one "ERROR: …" line. Both are
// turned into one kind, so that the log, the job summary and the hand-off's retries say the same.
// The answers behind each kind: __tests__/support/README.md, "Cache service refusals".

export type CacheRefusalKind =
  /** 429: too many saves at once (github.com: 200 uploads a minute per repository). */
  | 'rate-limited'
  /** The repository's cache storage is full (quota / size). */
  | 'full'
  /** The service declined the reservation without saying why ("failed to reserve cache"; ok: false). */
  | 'reserve-refused'
  /** An entry with this key exists, or another job is saving it. */
  | 'exists'
  /** The run's cache token may not write (an untrusted event). */
  | 'write-denied'
  /** 5xx or no connection, after the client's own retries (said as "the cache service failed"). */
  | 'unavailable'
  | 'failed';

export interface CacheRefusal {
  kind: CacheRefusalKind;
  /** The client's own words, for the log. */
  detail: string;
  /** rate-limited: the service's Retry-After, when it gave one. */
  retryAfterSeconds?: number;
}

/** GitHub's cap on a repository's Actions cache (entries over it are evicted, oldest used first). */
export const CACHE_CAP = '10 GB per repository unless the repository raised it';

const FULL =
  /insufficient usage|quota|storage (?:limit|is full)|cache (?:is )?full|size limit|exceeds? (?:the )?(?:size|limit|cap)|too large/i;

const strip = (line: string): string => line.replace(/^::(?:debug|warning|error|notice)[^:]*::/, '').trim();

/** The refusal @actions/cache's saveCache() logged (its stdout lines during the call), when it returned -1. */
export function refusalFromCacheLog(lines: string[]): CacheRefusal {
  const text = lines.map(strip);
  const cause = text
    .find((l) => l.startsWith('Failed to reserve cache:'))
    ?.slice('Failed to reserve cache:'.length)
    .trim();
  const declined = text
    .find((l) => l.startsWith('Cache reservation failed:'))
    ?.slice('Cache reservation failed:'.length)
    .trim();
  const failed = text.filter((l) => l.startsWith('Failed to save:')).pop();
  const detail = [cause, declined, failed].find((d) => d !== undefined && d !== '') ?? 'the cache service did not take the entry';
  const rate = text.map((l) => /rate limit will reset in (\d+) seconds/.exec(l)?.[1]).find((s) => s !== undefined);
  if (/cache write denied:/i.test(text.join('\n'))) return { kind: 'write-denied', detail: failed ?? detail };
  if (/RateLimitError|\(429\)|rate limit/i.test(cause ?? '') || rate !== undefined) {
    return { kind: 'rate-limited', detail, ...(rate !== undefined ? { retryAfterSeconds: Number(rate) } : {}) };
  }
  if (FULL.test(`${cause ?? ''}\n${declined ?? ''}\n${failed ?? ''}`)) return { kind: 'full', detail };
  if (/\(409\)|already exists/i.test(cause ?? '')) return { kind: 'exists', detail };
  if (
    /\(5\d\d\)|Unable to make request|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|after \d+ attempts/i.test(
      `${cause ?? ''}\n${failed ?? ''}`
    )
  ) {
    return { kind: 'unavailable', detail };
  }
  if (cause !== undefined || declined !== undefined) return { kind: 'reserve-refused', detail };
  return { kind: 'failed', detail };
}

/** The refusal in BuildKit's gha cache export error ("error writing layer blob: failed to reserve cache"). */
export function refusalFromBuildKit(error: string): CacheRefusal {
  const detail = error.trim();
  if (/resource_exhausted|\b429\b|rate limit/i.test(detail)) return { kind: 'rate-limited', detail };
  if (FULL.test(detail)) return { kind: 'full', detail };
  if (/failed to reserve cache/i.test(detail)) return { kind: 'reserve-refused', detail };
  if (/permission_denied|\b403\b/i.test(detail)) return { kind: 'write-denied', detail };
  if (/\b5\d\d\b|unavailable|connection refused|no such host|timeout/i.test(detail)) return { kind: 'unavailable', detail };
  return { kind: 'failed', detail };
}

/** What a refusal means, in a few words: the log's warnings and the job summary say this. */
export function refusalReason(r: CacheRefusal): string {
  switch (r.kind) {
    case 'rate-limited':
      return `the cache service is rate-limiting saves (429${r.retryAfterSeconds !== undefined ? `, retry after ${r.retryAfterSeconds} s` : ''})`;
    case 'full':
      return `the repository's Actions cache is at its cap (${CACHE_CAP})`;
    case 'reserve-refused':
      return `the cache service refused to reserve the entry (the repository's Actions cache may be at its cap, ${CACHE_CAP}, or busy)`;
    case 'exists':
      return 'an entry with this key exists or another job is saving it';
    case 'write-denied':
      return 'the cache service refused the write (a read-only cache token, or the storage quota)';
    case 'unavailable':
    case 'failed':
      return 'the cache service failed';
  }
}

/** Whether another try may go through: a rate limit, a busy reservation, a key taken by a half-done save. */
export function worthRetrying(r: CacheRefusal): boolean {
  return r.kind === 'rate-limited' || r.kind === 'reserve-refused' || r.kind === 'exists';
}
