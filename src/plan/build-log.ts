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

/** The steps of plain progress output ("#N [stage x/y] …"), by number: name (its platform prefix left out) and whether it was CACHED. */
function steps(log: string): Map<string, { name: string; cached: boolean }> {
  const out = new Map<string, { name: string; cached: boolean }>();
  const cached = new Set<string>();
  for (const line of log.split('\n')) {
    const m = /^#(\d+) (?:\[([^\]]*\d+\/\d+)\] (.*)|CACHED$)/.exec(line);
    if (!m?.[1]) continue;
    if (m[2] === undefined) cached.add(m[1]);
    // "[linux/amd64 build 5/5]", "[linux/amd64->arm64 build 2/5]" (a multi-platform build) are "[build 5/5]" in a one-platform one.
    else out.set(m[1], { name: `${m[2].replace(/^[\w-]+\/[\w-]+(?:\/v\d+)?(?:->\S+)? /, '')} ${m[3] ?? ''}`, cached: false });
  }
  for (const n of cached) {
    const step = out.get(n);
    if (step) step.cached = true;
  }
  return out;
}

/** Counts steps in BuildKit's plain progress output: "#N [stage x/y] ..." and "#N CACHED". */
export function countSteps(log: string): { cached: number; total: number } {
  const all = [...steps(log).values()];
  return { cached: all.filter((s) => s.cached).length, total: all.length };
}

/**
 * The steps of an image's build whose first tested platform was built (and loaded) on its own,
 * with the image's other platforms built beside it: `firstLogs` are those builds' logs, `logs`
 * the builds of every platform (one per part), where the steps the first builds ran show as
 * cached. A step counts as from the cache only when no first build ran it. Each log is read on its
 * own: BuildKit numbers the steps of each build from #1.
 */
export function buildSteps(logs: readonly string[], firstLogs: readonly string[] = []): { cached: number; total: number } {
  const ranFirst = new Set(firstLogs.flatMap((l) => [...steps(l).values()].filter((s) => !s.cached).map((s) => s.name)));
  const all = logs.flatMap((l) => [...steps(l).values()]);
  return { cached: all.filter((s) => s.cached && !ranFirst.has(s.name)).length, total: all.length };
}
