// Reads from a registry, through `buildx imagetools inspect` with the action's Docker config
// (its logins): the bytes of an index or manifest, what was pushed by digest, the digest a tag
// names, the per-platform sizes of an index, the annotations of the index a tag names, and which
// version the image a tag names carries. Every read is retried on transient faults. A REPO@DIGEST
// reference names bytes that never change: a run reads each one once (the check's reads serve
// the tags' sizes); a tag is read each time (it moves).
import { inspectArgs } from '../plan/commands/registry.js';
import { VERSION_LABEL } from '../plan/floating.js';
import { imageManifests, platformSizes, type Descriptor, type IndexDoc, type ManifestDoc } from '../plan/index-manifest.js';
import { DEFAULT_RETRY, withRetry, type RetryOptions } from './retry.js';
import type { ExecResult, Runner } from './runner.js';

/** `buildx imagetools inspect` of a reference, retried. */
export function readRegistry(
  target: string,
  format: Parameters<typeof inspectArgs>[1],
  runner: Runner,
  retry: RetryOptions
): Promise<ExecResult> {
  return withRetry(`Reading ${target} back from the registry`, () => runner.docker(inspectArgs(target, format), { silent: true }), retry);
}

/** Per runner (one per run): the bytes read of each REPO@DIGEST so far (a read under way included). */
const contentReads = new WeakMap<Runner, Map<string, Promise<string>>>();

/** The index or manifest bytes of `target` (REPO@DIGEST or REPO:TAG), parsed; a digest is read once per run. */
export async function readRaw<T extends IndexDoc | ManifestDoc>(
  target: string,
  runner: Runner,
  retry: RetryOptions = DEFAULT_RETRY
): Promise<T> {
  const read = (): Promise<string> => readRegistry(target, '--raw', runner, retry).then((r) => r.stdout);
  // A reference by digest (REPO@sha256:…, or a dry run's placeholder); a tag may move.
  if (!target.includes('@')) return JSON.parse(await read()) as T;
  const reads = contentReads.get(runner) ?? new Map<string, Promise<string>>();
  contentReads.set(runner, reads);
  let bytes = reads.get(target);
  if (!bytes) {
    bytes = read();
    reads.set(target, bytes);
    // A read that failed is not kept: the next one tries again.
    bytes.catch(() => reads.delete(target));
  }
  return JSON.parse(await bytes) as T;
}

/** What REPO@DIGEST holds, known without a read (the index a tag's dry run printed, now pushed under that digest): later reads take it. */
export function knownContent(target: string, bytes: string, runner: Runner): void {
  const reads = contentReads.get(runner) ?? new Map<string, Promise<string>>();
  contentReads.set(runner, reads);
  reads.set(target, Promise.resolve(bytes));
}

/** The digest a tag names now. */
export async function tagDigest(ref: string, runner: Runner, retry: RetryOptions = DEFAULT_RETRY): Promise<string> {
  return (JSON.parse((await readRegistry(ref, '--format={{json .Manifest}}', runner, retry)).stdout) as Descriptor).digest;
}

/** Reads what was pushed by digest (REPO@DIGEST per part): each index and its image manifests, at once. */
export async function readPushed(sources: string[], runner: Runner, retry: RetryOptions = DEFAULT_RETRY): Promise<void> {
  await Promise.all(
    sources.map(async (source) => {
      const top = await readRaw<IndexDoc>(source, runner, retry);
      const repo = source.slice(0, source.indexOf('@'));
      await Promise.all(imageManifests(top).map((d) => readRaw<ManifestDoc>(`${repo}@${d.digest}`, runner, retry)));
    })
  );
}

/** The size of each platform's image of an index whose manifests are in `repo`, the manifests read at once. */
export async function indexSizes(
  index: IndexDoc,
  repo: string,
  runner: Runner,
  retry: RetryOptions = DEFAULT_RETRY
): Promise<Record<string, number>> {
  const read = imageManifests(index).map(
    async (d) => [d.digest, await readRaw<ManifestDoc>(`${repo}@${d.digest}`, runner, retry)] as const
  );
  return platformSizes(index, Object.fromEntries(await Promise.all(read)));
}

const NOT_THERE = /\bnot found\b|manifest unknown|MANIFEST_UNKNOWN|NAME_UNKNOWN/i;

/** The annotations of the index (or manifest) a tag names; undefined when there is no such tag. Throws when the registry cannot be read. */
export async function annotationsOf(
  ref: string,
  runner: Runner,
  retry: RetryOptions = DEFAULT_RETRY
): Promise<Record<string, string> | undefined> {
  try {
    return (await readRaw<IndexDoc & { annotations?: Record<string, string> }>(ref, runner, retry)).annotations ?? {};
  } catch (e) {
    if (NOT_THERE.test((e as Error).message)) return undefined;
    throw e;
  }
}

/**
 * The version the image a tag names now carries (its version label): null when there is no such
 * tag, undefined when its image has no label. Throws when the registry cannot be read.
 */
export async function currentVersion(ref: string, runner: Runner, retry: RetryOptions = DEFAULT_RETRY): Promise<string | null | undefined> {
  let out: ExecResult;
  try {
    out = await readRegistry(ref, '--format={{json .Image}}', runner, retry);
  } catch (e) {
    if (NOT_THERE.test((e as Error).message)) return null;
    throw e;
  }
  type Config = { config?: { Labels?: Record<string, string> } };
  const image = JSON.parse(out.stdout) as Config | Record<string, Config>;
  const configs: Config[] = 'config' in image ? [image as Config] : Object.values(image as Record<string, Config>);
  return configs.map((c) => c.config?.Labels?.[VERSION_LABEL]).find((v) => v !== undefined);
}
