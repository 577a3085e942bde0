// Go caches that survive runs: before the build, the saved contents of an image's cache mounts
// are restored with @actions/cache and copied into the builder; in the post step they are copied
// out of the builder and saved. restoreGoCaches is the phase: which images restore (images that
// share cache mounts restore them once; off with go-cache: false or without a cache service). A
// fault of the cache service, or a save it refuses (its cap reached, a rate limit), is a warning
// that says which, never a failed build.
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import * as core from '@actions/core';
import { refusalReason } from '../plan/cache-refusal.js';
import { extractDockerfile, goCacheKeys, restoreDockerfile, type GoCacheMount } from '../plan/go-cache.js';
import { cacheMountsArgs } from '../plan/commands/builders.js';
import { throwawayBuildArgs } from '../plan/commands/build.js';
import type { Plan } from '../plan/types.js';
import type { CacheStore } from './actions-cache.js';
import type { Runner } from './runner.js';

/** What main works out per image and post needs to save (kept in the saved state). */
export interface GoCacheEntry {
  image: string; // display name of the image
  /** Image of the stage that mounts the caches (has sh and cp): the throwaway builds run on it. */
  baseImage: string;
  mounts: GoCacheMount[];
  key: string;
  restoreKeys: string[];
  /** Key of the entry restored (or, for a builder that had the caches already, found), when one was. */
  restoredKey?: string;
  builder: string;
  /** Bytes in each cache mount (by id) once restored: post saves only when they changed. */
  sizesAtStart?: Record<string, number>;
}

/** Where the contents wait on the runner. A "~" path: @actions/cache versions entries by the path string. */
export function cachePath(entry: Pick<GoCacheEntry, 'key' | 'restoreKeys'>): { pattern: string; dir: string } {
  // The last restore key: image, platforms and mounts, the same whatever go.sum or the run.
  const name = (entry.restoreKeys[entry.restoreKeys.length - 1] ?? entry.key).replace(/-$/, '');
  return { pattern: `~/.cache/go-docker-publish/${name}`, dir: join(homedir(), '.cache/go-docker-publish', name) };
}

function goSumOf(context: string): string {
  for (const f of ['go.sum', 'go.mod']) {
    const p = join(context, f);
    if (existsSync(p)) return readFileSync(p, 'utf8');
  }
  return '';
}

export function makeEntry(
  o: { image: string; scope: string; platforms: string[]; context: string; baseImage: string; mounts: GoCacheMount[]; run: string },
  builder: string
): GoCacheEntry {
  const keys = goCacheKeys({ scope: o.scope, platforms: o.platforms, goSum: goSumOf(o.context), mounts: o.mounts, run: o.run });
  return { image: o.image, baseImage: o.baseImage, mounts: o.mounts, ...keys, builder };
}

function sizeOf(dir: string): number {
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) total += statSync(join(e.parentPath, e.name)).size;
  }
  return total;
}

const UNITS: Record<string, number> = { B: 1, kB: 1e3, KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12 };

/** Pure: bytes per cache-mount id in `docker buildx du --verbose --filter type=exec.cachemount` output. */
export function parseMountSizes(du: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const rec of du.split(/\n\s*\n/)) {
    const id = /with id "\/?([^"]+)"/.exec(rec)?.[1];
    const size = /^Size:\s+([\d.]+)\s*([kKMGT]?B)$/m.exec(rec);
    if (!id || !size?.[1] || !size[2]) continue;
    out[id] = (out[id] ?? 0) + Math.round(Number(size[1]) * (UNITS[size[2]] ?? 1));
  }
  return out;
}

async function mountSizes(entry: GoCacheEntry, runner: Runner): Promise<Record<string, number>> {
  const r = await runner.docker(cacheMountsArgs(entry.builder), { silent: true, allowFailure: true });
  const all = parseMountSizes(r.stdout);
  return Object.fromEntries(entry.mounts.map((m) => [m.id, all[m.id] ?? 0]));
}

/** A builder that kept its cache mounts from an earlier run (a self-hosted runner, a remote builder) needs no restore. */
const WARM_BYTES = 1e6;

/** A throwaway build on the entry's builder; a fresh nonce keeps its RUN steps out of the layer cache. */
function danceArgs(entry: GoCacheEntry, output: string, context: string, dockerfile?: string): string[] {
  return throwawayBuildArgs(entry.builder, `${Date.now()}-${Math.random().toString(36).slice(2)}`, output, context, dockerfile);
}

/**
 * Restores the newest matching entry into the builder's cache mounts. Sets entry.restoredKey (the
 * entry restored or, for a builder that holds the caches already, the one that matches) and
 * entry.sizesAtStart. Returns what happened, for the job summary.
 */
export async function restoreGoCache(entry: GoCacheEntry, runner: Runner, store: CacheStore): Promise<string> {
  const { pattern, dir } = cachePath(entry);
  try {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const sizes = await mountSizes(entry, runner);
    const held = Object.values(sizes).reduce((a, b) => a + b, 0);
    if (held >= WARM_BYTES) {
      // Say which saved entry matches, so post does not save the same again when nothing changed.
      const found = await store.restore([pattern], entry.key, entry.restoreKeys, true).catch(() => undefined);
      core.info(`Go cache of ${entry.image}: the builder already holds ${(held / 1e6).toFixed(1)} MB in its cache mounts: not restored`);
      if (found) entry.restoredKey = found;
      entry.sizesAtStart = sizes;
      return found ? `kept in the builder (matches ${found})` : 'kept in the builder (no saved entry yet)';
    }
    let hit: string | undefined;
    try {
      hit = await store.restore([pattern], entry.key, entry.restoreKeys);
    } catch (e) {
      core.warning(`Go cache of ${entry.image}: the cache service failed, building without it: ${(e as Error).message}`);
      return 'cold: the cache service failed';
    }
    if (!hit) {
      core.info(`Go cache of ${entry.image}: nothing saved yet for ${entry.restoreKeys[0] ?? entry.key}*`);
      return 'cold: nothing restored';
    }
    for (const [i] of entry.mounts.entries()) mkdirSync(join(dir, `m${i}`), { recursive: true });
    const bytes = sizeOf(dir);
    writeFileSync(join(dir, 'Dockerfile.gdp-restore'), restoreDockerfile(entry.baseImage, entry.mounts));
    await core.group(`Restore the Go cache of ${entry.image} (${hit}, ${(bytes / 1e6).toFixed(1)} MB) into the builder`, () =>
      runner.docker(danceArgs(entry, '--output=type=cacheonly', dir, join(dir, 'Dockerfile.gdp-restore')))
    );
    core.info(`Go cache of ${entry.image}: restored ${hit} (${entry.mounts.map((m) => m.target).join(', ')})`);
    entry.restoredKey = hit;
    entry.sizesAtStart = await mountSizes(entry, runner);
    return `restored ${hit}`;
  } catch (e) {
    core.warning(`Go cache of ${entry.image}: could not restore it, building without it: ${(e as Error).message}`);
    return 'cold: the restore failed';
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Copies the builder's cache mounts out and saves them under the entry's key. Never throws.
 * `notSaved` hears why, when the cache service did not take it or the copy failed (the job summary).
 */
export async function saveGoCache(
  entry: GoCacheEntry,
  runner: Runner,
  store: CacheStore,
  notSaved: (why: string) => void = () => undefined
): Promise<boolean> {
  const { pattern, dir } = cachePath(entry);
  const empty = `${dir}.context`;
  try {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(empty, { recursive: true });
    if (entry.restoredKey && entry.sizesAtStart) {
      const now = await mountSizes(entry, runner);
      if (entry.mounts.every((m) => now[m.id] === entry.sizesAtStart?.[m.id])) {
        core.info(`Go cache of ${entry.image}: unchanged since ${entry.restoredKey}: not saved again`);
        return true;
      }
    }
    writeFileSync(join(empty, 'Dockerfile'), extractDockerfile(entry.baseImage, entry.mounts));
    await runner.docker(danceArgs(entry, `--output=type=local,dest=${dir}`, empty), { silent: true });
    const bytes = existsSync(dir) ? sizeOf(dir) : 0;
    if (bytes === 0) {
      // Empty mounts (the build never ran): saving would hide an older, good entry.
      core.info(`Go cache of ${entry.image}: the cache mounts are empty: nothing saved`);
      return false;
    }
    const saved = await store.save([pattern], entry.key);
    if (!saved.saved) {
      const why = refusalReason(saved.refusal);
      core.warning(`Go cache of ${entry.image}: not saved, ${why}: ${saved.refusal.detail}. The run goes on without it.`);
      notSaved(`${why} (${entry.key})`);
      return false;
    }
    core.info(`Go cache of ${entry.image}: saved ${(bytes / 1e6).toFixed(1)} MB as ${entry.key}`);
    return true;
  } catch (e) {
    core.warning(`Go cache of ${entry.image}: not saved: ${(e as Error).message}`);
    notSaved(`copying it out of the builder failed: ${(e as Error).message.split('\n')[0]}`);
    return false;
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(empty, { recursive: true, force: true });
  }
}

/**
 * The Go cache phase, before the build: per image with cache mounts, restore its saved caches into
 * the runner's builder, once per set of mounts (BuildKit keeps a cache mount per builder and id,
 * so images that share mounts share them). Returns what happened per image (the summary's "Go
 * cache"), undefined for an image without cache mounts; `ready` hears of each entry post saves.
 */
export async function restoreGoCaches(
  plan: Plan,
  builder: string,
  runner: Runner,
  store: CacheStore,
  o: { workspace: string; runId: string; ready: (entry: GoCacheEntry) => void }
): Promise<(string | undefined)[]> {
  const first = new Map<string, string>();
  const out: (string | undefined)[] = [];
  for (const img of plan.images) {
    const spec = img.check?.goCache;
    if (!spec) out.push(undefined);
    else if (plan.goCache === 'false') out.push('off (go-cache: false)');
    else if (!store.available()) {
      core.info(`Go cache of ${img.name}: the GitHub Actions cache service is not available here`);
      out.push('off: no cache service (not running on GitHub Actions?)');
    } else {
      const mounts = spec.mounts
        .map((m) => m.id)
        .sort()
        .join(',');
      const sharedWith = first.get(mounts);
      if (sharedWith) {
        out.push(`shared with ${sharedWith} (same cache mounts)`);
        continue;
      }
      first.set(mounts, img.name);
      const context = resolve(o.workspace, img.context);
      const entry = makeEntry(
        { image: img.name, scope: img.cacheScope, platforms: img.platforms, context, ...spec, run: o.runId },
        builder
      );
      out.push(await restoreGoCache(entry, runner, store));
      o.ready(entry);
    }
  }
  return out;
}
