// Pure: how a runner of a matrix (mode: platform) hands what it pushed to the merge job
// (mode: merge), with no artifact step and no digest plumbing in the user's workflow. Each
// platform run saves one small record per platform it built in the run's GitHub Actions cache,
// under a key made of the workflow run, the set of images and the platform; the merge job restores
// the newest record per platform (a re-run job writes a new attempt) and checks it. When the cache
// does not take a record (a rate limit, its cap), the record goes to the registry instead, with
// the image: an index of the pushed digest tagged gdp-handoff-<run>-<scope>-<platform> in the
// image's first repository, the record in an annotation; the merge reads it there when the cache
// has no record of that platform.
import { createHash } from 'node:crypto';
import { platformsOf } from './platforms.js';
import type { SmokeEvidence } from './test-result.js';
import type { Plan } from './types.js';

/** What one platform run leaves for the merge job, per platform. */
export interface HandoffRecord {
  schema: 1;
  /** GITHUB_RUN_ID and GITHUB_SHA of the run, and the version it published. */
  run: string;
  sha: string;
  version: string | null;
  platform: string;
  images: HandoffImage[];
}

export interface HandoffImage {
  name: string;
  /** REPOSITORY@DIGEST pushed by digest, untagged: the image of this platform (with its attestations). */
  source: string;
  smoke: 'passed' | 'skipped';
  /** The engine's ID of the image that ran the smoke test, which the platform run checked against the registry. */
  tested?: string;
  /** How its smoke test passed, for the merge's smoke-test attestation. */
  passedBy?: string;
  exitCode?: number;
  health?: string;
}

/** Which set of images the records belong to: two matrix + merge pairs in one workflow never mix. */
export function handoffScope(names: string[]): string {
  return createHash('sha256')
    .update([...names].sort().join('\n'))
    .digest('hex')
    .slice(0, 12);
}

const slug = (platform: string): string => platform.replace(/\//g, '-');

/** The key prefix of one platform's records in a workflow run; a record's key adds `@<attempt>`. */
export function handoffPrefix(runId: string, scope: string, platform: string): string {
  return `go-docker-publish-handoff-${runId}-${scope}-${slug(platform)}@`;
}

export function handoffKey(runId: string, scope: string, platform: string, attempt: string): string {
  return `${handoffPrefix(runId, scope, platform)}${attempt}`;
}

/** Where the record waits on the runner. A "~" path: @actions/cache versions entries by the path string. */
export const HANDOFF_PATH = '~/.cache/go-docker-publish/handoff';

/**
 * Checks the records found against what the merge expects: every platform of every image, from a
 * platform run of this workflow run and commit, smoke-tested (or with smoke: false). Returns, per
 * image, the sources to tag from (one per platform, deduplicated), or the problems, each naming the
 * image and the platform.
 */
export function checkRecords(
  plan: Plan,
  records: Record<string, HandoffRecord | undefined>,
  run: { id: string; sha: string }
): {
  sources: string[][];
  tested: Record<string, string>[];
  smoke: (SmokeEvidence & { image: string; status: string })[];
  problems: string[];
} {
  const problems: string[] = [];
  const sources: string[][] = [];
  const tested: Record<string, string>[] = [];
  const smoke: (SmokeEvidence & { image: string; status: string })[] = [];
  for (const img of plan.images) {
    const mine: string[] = [];
    const ids: Record<string, string> = {};
    for (const platform of img.platforms) {
      const rec = records[platform];
      const where = `image ${img.name}, platform ${platform}`;
      if (!rec) {
        problems.push(
          `${where}: no platform run of this workflow run pushed it (no record of it in the Actions cache nor in the registry: its job failed, for example its smoke test, or did not run)`
        );
        continue;
      }
      if (rec.run !== run.id || rec.sha !== run.sha) {
        problems.push(`${where}: the record found is from run ${rec.run} at ${rec.sha}, not this run (${run.id} at ${run.sha})`);
        continue;
      }
      if (rec.version !== (plan.release.version ?? null)) {
        problems.push(
          `${where}: the platform run published version ${rec.version ?? '(none)'}, this merge ${plan.release.version ?? '(none)'}`
        );
        continue;
      }
      const got = rec.images.find((i) => i.name === img.name);
      if (!got) {
        problems.push(
          `${where}: the platform run that built ${platform} did not build this image (are the images inputs the same in every job?)`
        );
        continue;
      }
      if (got.smoke !== 'passed' && !(got.smoke === 'skipped' && !img.smoke.enabled)) {
        problems.push(`${where}: not smoke-tested (${got.smoke})`);
        continue;
      }
      if (!mine.includes(got.source)) mine.push(got.source);
      if (got.tested) ids[platform] = got.tested;
      if (got.smoke === 'passed') {
        const { tested: imageId, passedBy, exitCode, health } = got;
        smoke.push({ image: img.name, platform, status: 'passed', ...defined({ imageId, passedBy, exitCode, health }) });
      }
    }
    sources.push(mine);
    tested.push(ids);
  }
  return { sources, tested, smoke, problems };
}

/** The fields of `o` that are set. */
function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Parses a record file; undefined when it is not one. */
export function parseRecord(text: string): HandoffRecord | undefined {
  try {
    const r = JSON.parse(text) as Partial<HandoffRecord>;
    if (r.schema !== 1 || typeof r.platform !== 'string' || !Array.isArray(r.images)) return undefined;
    return r as HandoffRecord;
  } catch {
    return undefined;
  }
}

/** What a platform run hands to the merge job, one record per platform it built. */
export function handoffRecords(
  plan: Plan,
  sources: string[][],
  smoke: ({ image: string; platform: string; status: string; imageId?: string } & SmokeEvidence)[],
  run: { id: string; sha: string }
): HandoffRecord[] {
  return platformsOf(plan.images).map((platform) => ({
    schema: 1,
    run: run.id,
    sha: run.sha,
    version: plan.release.version ?? null,
    platform,
    images: plan.images.flatMap((img, i): HandoffImage[] => {
      const source = sources[i]?.[0];
      if (!img.platforms.includes(platform) || !source) return [];
      const t = smoke.find((s) => s.image === img.name && s.platform === platform);
      if (t?.status === 'passed') {
        const how = defined({ passedBy: t.passedBy, exitCode: t.exitCode, health: t.health });
        return [{ name: img.name, source, smoke: 'passed' as const, ...(t.imageId ? { tested: t.imageId } : {}), ...how }];
      }
      return img.smoke.enabled ? [] : [{ name: img.name, source, smoke: 'skipped' as const }];
    })
  }));
}

/** Tries of a hand-off save the cache service refuses for a while (a rate limit, a busy reservation). */
export const HANDOFF_TRIES = 3;

/** The key of try `n` (1-based) of a record: a try after a half-done one must not meet its reservation. */
export function handoffTryKey(key: string, n: number): string {
  return n === 1 ? key : `${key}.${n}`;
}

/** How long to wait before try `n + 1`: the service's Retry-After (30 s at most), else 2 s, 4 s, … */
export function handoffRetryDelayMs(retryAfterSeconds: number | undefined, n: number): number {
  if (retryAfterSeconds !== undefined && retryAfterSeconds > 0) return Math.min(retryAfterSeconds, 30) * 1000;
  return 2000 * 2 ** (n - 1);
}

/** The index annotation that holds the record in the registry. */
export const HANDOFF_ANNOTATION = 'io.github.go-docker-publish.handoff';

/** The tag of one image's record of one platform in its first repository. */
export function handoffTag(runId: string, scope: string, platform: string): string {
  return `gdp-handoff-${runId}-${scope}-${slug(platform)}`;
}

/** One image's part of a record, as the annotation holds it (the record with that image alone). */
export function registryRecord(rec: HandoffRecord, image: HandoffImage): string {
  return JSON.stringify({ ...rec, images: [image] });
}

/**
 * The record of a platform from what the registry holds for each image (the annotations of each
 * image's hand-off index; undefined where there was none): undefined when no image has one.
 */
export function recordFromRegistry(platform: string, annotations: (Record<string, string> | undefined)[]): HandoffRecord | undefined {
  const parts = annotations.flatMap((a) => {
    const r = a?.[HANDOFF_ANNOTATION] === undefined ? undefined : parseRecord(a[HANDOFF_ANNOTATION]);
    return r && r.platform === platform ? [r] : [];
  });
  const [first] = parts;
  if (!first) return undefined;
  return { ...first, images: parts.flatMap((p) => (p.run === first.run && p.sha === first.sha ? p.images : [])) };
}
