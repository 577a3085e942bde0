// Push, after every smoke test of every image passed: each image is pushed by digest, untagged
// (every platform, from the builder's cache); then, for every platform that was smoke-tested, the
// pushed manifest is checked to be the image that ran (its digest or its config digest is the
// engine's image ID); only then is every tag of every image created (`buildx imagetools
// create`: a copy of the index, or one index of a split build's parts). The digest and
// per-platform sizes reported are read back from the registry. Every registry call is retried on
// transient faults (retry.ts).
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import * as core from '@actions/core';
import { tagArgs } from '../plan/commands.js';
import { decideFloat, floatingTags, VERSION_LABEL } from '../plan/floating.js';
import { indexAnnotations } from '../plan/labels.js';
import type { Plan, PlannedImage } from '../plan/types.js';
import { exportPart, partDriver, rewritesTimestamps, type BuildResult, type Builders } from './build.js';
import { withRetry, type RetryOptions, DEFAULT_RETRY } from './retry.js';
import type { ExecResult, Runner } from './runner.js';
import type { SmokeResult } from './smoke.js';

export interface PushedImage {
  name: string;
  digest: string;
  sizes: Record<string, number>;
  pushedRefs: string[];
}

interface Descriptor {
  mediaType?: string;
  digest: string;
  size: number;
  platform?: { os: string; architecture: string; variant?: string };
  annotations?: Record<string, string>;
}
/** Pure: per-platform image sizes (config + layers) from an index and its manifests. */
export function platformSizes(
  index: { manifests?: Descriptor[] },
  manifests: Record<string, { config?: { size: number }; layers?: { size: number }[] }>
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const d of index.manifests ?? []) {
    const p = d.platform;
    if (!p || p.os === 'unknown' || d.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest') continue;
    const m = manifests[d.digest];
    if (!m) continue;
    const key = [p.os, p.architecture, p.variant].filter(Boolean).join('/');
    out[key] = (m.config?.size ?? 0) + (m.layers ?? []).reduce((s, l) => s + l.size, 0);
  }
  return out;
}

export async function inspectRemote(
  ref: string,
  runner: Runner,
  retry: RetryOptions = DEFAULT_RETRY
): Promise<{ digest: string; sizes: Record<string, number> }> {
  const inspect = (target: string, format: string): Promise<ExecResult> => readRegistry(target, format, runner, retry);
  const digestOut = await inspect(ref, '--format={{json .Manifest}}');
  const digest = (JSON.parse(digestOut.stdout) as Descriptor).digest;
  const raw = await inspect(ref, '--raw');
  const index = JSON.parse(raw.stdout) as { manifests?: Descriptor[]; layers?: unknown };
  const repo = ref.replace(/:[^:/]+$/, '');
  const manifests: Record<string, { config?: { size: number }; layers?: { size: number }[] }> = {};
  for (const d of index.manifests ?? []) {
    if (!d.platform || d.platform.os === 'unknown') continue;
    const m = await inspect(`${repo}@${d.digest}`, '--raw');
    manifests[d.digest] = JSON.parse(m.stdout) as { config?: { size: number }; layers?: { size: number }[] };
  }
  return { digest, sizes: platformSizes(index, manifests) };
}

/** `buildx imagetools inspect` of a reference in a registry, retried. */
function readRegistry(target: string, format: string, runner: Runner, retry: RetryOptions): Promise<ExecResult> {
  return withRetry(
    `Reading ${target} back from the registry`,
    () => runner.docker(['buildx', 'imagetools', 'inspect', target, format], { silent: true }),
    retry
  );
}

/**
 * Pure: the digest of the index `imagetools create --dry-run` prints (the bytes it would push,
 * then a new line); '' when the output is not an index.
 */
export function indexDigestOf(stdout: string): string {
  const body = stdout.endsWith('\n') ? stdout.slice(0, -1) : stdout;
  try {
    if (!Array.isArray((JSON.parse(body) as { manifests?: unknown }).manifests)) return '';
  } catch {
    return '';
  }
  return `sha256:${createHash('sha256').update(body).digest('hex')}`;
}

/** Pure: a platform as the plan spells it, from an index descriptor (arm64's v8 is implied). */
export function platformKey(p: { os: string; architecture: string; variant?: string }): string {
  return [p.os, p.architecture, p.architecture === 'arm64' && p.variant === 'v8' ? undefined : p.variant].filter(Boolean).join('/');
}

/** Pure: the manifest of one platform in an index, attestations left out. */
export function platformManifest(index: { manifests?: Descriptor[] }, platform: string): Descriptor | undefined {
  const want = platform.replace(/^(linux\/arm64)\/v8$/, '$1');
  return (index.manifests ?? []).find((d) => d.platform && d.platform.os !== 'unknown' && platformKey(d.platform) === want);
}

/** Pushes every part of a built image by digest, untagged; returns what its tags are made from (REPO@DIGEST, one per part). */
export async function pushByDigest(
  plan: Plan,
  build: BuildResult,
  builders: Builders,
  runner: Runner,
  tmp: string,
  retry: RetryOptions = DEFAULT_RETRY
): Promise<string[]> {
  const img = build.image;
  const repository = img.repositories[0] ?? img.name;
  const sources: string[] = [];
  for (const [j, part] of build.parts.entries()) {
    const rewriteTimestamp = rewritesTimestamps(img, partDriver(part, builders.runner.driver));
    const { metadata } = await withRetry(
      `Pushing ${img.name} (${part.platforms.join(', ')}) by digest`,
      () =>
        exportPart(
          plan,
          img,
          part,
          builders.runner.name,
          { type: 'push-by-digest', repository, rewriteTimestamp, attestations: { provenance: plan.provenance, sbom: plan.sbom } },
          join(tmp, `push-${j}.json`),
          runner
        ),
      retry
    );
    const digest = metadata['containerimage.digest'];
    if (typeof digest !== 'string')
      throw new Error(`Push by digest of ${img.name} (${part.platforms.join(', ')}): buildx reported no digest`);
    core.info(`Pushed ${img.name} (${part.platforms.join(', ')}) by digest, untagged: ${repository}@${digest}`);
    sources.push(`${repository}@${digest}`);
  }
  return sources;
}

/**
 * Checks, for every smoke-tested platform of an image, that the manifest pushed for it is the image
 * that ran: the engine's image ID is that manifest's digest (containerd image store) or its config
 * digest (classic store), and logs it.
 */
export async function checkTested(
  build: BuildResult,
  sources: string[],
  tested: SmokeResult[],
  runner: Runner,
  retry: RetryOptions = DEFAULT_RETRY
): Promise<void> {
  const img = build.image;
  for (const t of tested) {
    if (t.image !== img.name || t.status !== 'passed' || !t.imageId) continue;
    const source = sources[build.parts.findIndex((p) => p.platforms.includes(t.platform))];
    if (!source) throw new Error(`${img.name}: no pushed image holds ${t.platform}`);
    await checkPlatform(img.name, source, t.platform, t.imageId, runner, retry);
  }
}

/**
 * Checks that `source` (REPO@DIGEST) in the registry has a manifest for `platform`, and, given the
 * image ID that was smoke-tested, that this manifest is that image. Returns the manifest digest.
 */
export async function checkPlatform(
  name: string,
  source: string,
  platform: string,
  imageId: string | undefined,
  runner: Runner,
  retry: RetryOptions = DEFAULT_RETRY
): Promise<string> {
  const repo = source.slice(0, source.indexOf('@'));
  const top = JSON.parse((await readRegistry(source, '--raw', runner, retry)).stdout) as { manifests?: Descriptor[] };
  const manifest = top.manifests ? platformManifest(top, platform)?.digest : source.slice(repo.length + 1);
  if (!manifest) throw new Error(`${name}: the image pushed by digest (${source}) has no ${platform} manifest`);
  if (imageId === undefined) return manifest;
  const config = (JSON.parse((await readRegistry(`${repo}@${manifest}`, '--raw', runner, retry)).stdout) as { config?: Descriptor }).config
    ?.digest;
  if (imageId !== manifest && imageId !== config) {
    throw new Error(
      `${name} ${platform}: the image pushed by digest (manifest ${manifest}, config ${config ?? 'none'}) is not the image that was smoke-tested (image ID ${imageId}). Nothing was tagged.`
    );
  }
  core.info(
    `${name} ${platform}: the pushed manifest ${manifest} (config ${config}) is the image that was smoke-tested (image ID ${imageId})`
  );
  return manifest;
}

/** Creates every tag of an image from what was pushed by digest, then reads the result back. */
export async function tagImage(
  img: PlannedImage,
  sources: string[],
  runner: Runner,
  pushed: (ref: string) => void,
  retry: RetryOptions = DEFAULT_RETRY
): Promise<PushedImage> {
  const pushedRefs: string[] = [];
  const annotations = indexAnnotations(img.labels);
  const first = img.refs[0];
  // The index every tag will hold (a new one, with the annotations), known before any tag exists:
  // reported when the tags cannot be read back. Once, not retried: the tags themselves are.
  const planned = first
    ? indexDigestOf((await runner.docker(tagArgs(first, sources, annotations, true), { silent: true, allowFailure: true })).stdout)
    : '';
  for (const ref of img.refs) {
    await withRetry(`Tagging ${ref}`, () => runner.docker(tagArgs(ref, sources, annotations), { silent: true }), retry);
    core.info(`Tagged ${ref}`);
    pushedRefs.push(ref);
    pushed(ref);
  }
  if (!first) return { name: img.name, digest: '', sizes: {}, pushedRefs };
  try {
    const remote = await inspectRemote(first, runner, retry);
    return { name: img.name, digest: remote.digest, sizes: remote.sizes, pushedRefs };
  } catch (e) {
    // Tagged, but not read back: the digest of the index the dry run printed.
    const digest = planned;
    core.warning(
      `${img.name} was tagged${digest ? ` (${digest})` : ''}, but could not be read back from the registry, so its sizes are not reported: ${(e as Error).message.split('\n')[0]}`
    );
    return { name: img.name, digest, sizes: {}, pushedRefs };
  }
}

/**
 * Every tag of every image, from what was pushed by digest (`sources[i]` for `plan.images[i]`):
 * floating tags that would move backwards are left (floatingTagsToKeep); the outcome of each image
 * gets its tags, digest and sizes; `pushed` hears of every ref as soon as it is in a registry.
 */
export async function tagAll(
  plan: Plan,
  sources: string[][],
  runner: Runner,
  outcomes: { tags: string[]; digest: string; size: Record<string, number> }[],
  pushed: (ref: string) => void
): Promise<void> {
  const keep = await floatingTagsToKeep(plan, runner);
  for (const [i, img] of plan.images.entries()) {
    const o = outcomes[i];
    const refs = img.refs.filter((r) => !keep.has(r));
    if (o) o.tags = refs;
    const p = await tagImage({ ...img, refs }, sources[i] ?? [], runner, pushed);
    if (!o) continue;
    o.digest = p.digest;
    o.size = p.sizes;
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
    if (/\bnot found\b|manifest unknown|MANIFEST_UNKNOWN|NAME_UNKNOWN/i.test((e as Error).message)) return null;
    throw e;
  }
  type Config = { config?: { Labels?: Record<string, string> } };
  const image = JSON.parse(out.stdout) as Config | Record<string, Config>;
  const configs: Config[] = 'config' in image ? [image as Config] : Object.values(image as Record<string, Config>);
  return configs.map((c) => c.config?.Labels?.[VERSION_LABEL]).find((v) => v !== undefined);
}

/**
 * Floating tags never move backwards: for each floating tag (latest, MAJOR, MAJOR.MINOR) of each
 * repository, the version it holds now is read; a tag this release would take back to older code
 * is left where it is, with a notice naming the version that keeps it. Returns the refs to leave.
 * A dry run (`dryRun`) reads the same way, once, and says so where it could not look.
 */
export async function floatingTagsToKeep(
  plan: Plan,
  runner: Runner,
  retry: RetryOptions = DEFAULT_RETRY,
  dryRun = false
): Promise<Set<string>> {
  const keep = new Set<string>();
  const version = plan.release.version;
  const floats = floatingTags(plan.release);
  if (version === undefined || floats.length === 0) return keep;
  for (const img of plan.images) {
    for (const repo of img.repositories) {
      for (const tag of floats) {
        const ref = `${repo}:${tag}`;
        if (!img.refs.includes(ref)) continue;
        let current: string | null | undefined;
        try {
          current = await currentVersion(ref, runner, retry);
        } catch (e) {
          const why = (e as Error).message.split('\n')[0];
          if (dryRun)
            core.info(`Dry run: did not look which version ${ref} holds (the registry could not be read: ${why}); a real run decides`);
          else core.warning(`Could not read which version ${ref} holds, so it moves as the tag rules say: ${why}`);
          continue;
        }
        const d = decideFloat(tag, version, current, plan.latest === 'true');
        const would = dryRun ? 'would ' : '';
        if (d.move) core.info(`${ref} ${would}${dryRun ? 'move' : 'moves'} to ${version}: ${d.reason}`);
        else {
          core.notice(`${ref} ${dryRun ? 'would not be' : 'is not'} moved to ${version}: ${d.reason}`);
          keep.add(ref);
        }
      }
    }
  }
  return keep;
}
