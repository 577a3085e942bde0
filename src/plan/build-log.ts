// BuildKit's plain progress output, read (pure): how many steps came from the cache, and the cache
// import/export steps that failed (ignore-error=true keeps the build going, so only the log tells).

export interface CacheErrors {
  import?: string;
  export?: string;
}

/** Failed cache steps in plain progress output ("#N importing cache …" / "#N exporting … cache" then "#N ERROR: …"). */
export function cacheErrors(log: string): CacheErrors {
  const kind = new Map<string, 'import' | 'export'>();
  const out: CacheErrors = {};
  for (const line of log.split('\n')) {
    const step = /^#(\d+) (importing cache|exporting (?:to GitHub Actions Cache|cache))/.exec(line);
    if (step?.[1]) kind.set(step[1], step[2]?.startsWith('importing') ? 'import' : 'export');
    const err = /^#(\d+) ERROR: (.*)$/.exec(line);
    const k = err?.[1] ? kind.get(err[1]) : undefined;
    if (k && err?.[2] && out[k] === undefined) out[k] = err[2];
  }
  return out;
}

/** Counts steps in BuildKit's plain progress output: "#N [stage x/y] ..." and "#N CACHED". */
export function countSteps(log: string): { cached: number; total: number } {
  const steps = new Set<string>();
  const cached = new Set<string>();
  for (const line of log.split('\n')) {
    const m = /^#(\d+) (\[.*\]|CACHED)/.exec(line);
    if (!m || !m[1]) continue;
    if (m[2] === 'CACHED') cached.add(m[1]);
    else if (/^\[[^\]]*\d+\/\d+\]/.test(m[2] ?? '')) steps.add(m[1]);
  }
  return { cached: [...cached].filter((s) => steps.has(s)).length, total: steps.size };
}
