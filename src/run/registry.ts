// Reads from a registry, through `buildx imagetools inspect` with the action's Docker config
// (its logins): the bytes of an index or manifest, the index a tag names with per-platform sizes,
// its annotations, and which version the image a tag names carries. Every read is retried on
// transient faults.
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

/** The index or manifest bytes of `target` (REPO@DIGEST or REPO:TAG), parsed. */
export async function readRaw<T extends IndexDoc | ManifestDoc>(
  target: string,
  runner: Runner,
  retry: RetryOptions = DEFAULT_RETRY
): Promise<T> {
  return JSON.parse((await readRegistry(target, '--raw', runner, retry)).stdout) as T;
}

/** The digest a tag names and the size of each platform's image. */
export async function inspectRemote(
  ref: string,
  runner: Runner,
  retry: RetryOptions = DEFAULT_RETRY
): Promise<{ digest: string; sizes: Record<string, number> }> {
  const digest = (JSON.parse((await readRegistry(ref, '--format={{json .Manifest}}', runner, retry)).stdout) as Descriptor).digest;
  const index = await readRaw<IndexDoc>(ref, runner, retry);
  const repo = ref.replace(/:[^:/]+$/, '');
  const manifests: Record<string, ManifestDoc> = {};
  for (const d of imageManifests(index)) manifests[d.digest] = await readRaw<ManifestDoc>(`${repo}@${d.digest}`, runner, retry);
  return { digest, sizes: platformSizes(index, manifests) };
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
