// Push, after every smoke test of every image passed: each image is pushed by digest, untagged
// (every platform, from the builder's cache); then, for every platform that was smoke-tested, the
// pushed manifest is checked to be the image that ran (its digest or its config digest is the
// engine's image ID), and the rest of what was pushed is read once (the tags' sizes come from
// these reads: registry.ts never reads a digest twice). Images push side by side: one's check
// reads while the next one pushes. Tags come only after every image passed (tag.ts). Every push
// is retried on transient faults.
import { join } from 'node:path';
import * as core from '@actions/core';
import { platformManifest, type IndexDoc, type ManifestDoc } from '../plan/index-manifest.js';
import { partDriver, rewritesTimestamps } from '../plan/parts.js';
import type { Plan } from '../plan/types.js';
import type { PhaseClock } from '../report/phases.js';
import { exportPart, type BuildResult, type Builders } from './build.js';
import type { Building } from './build-and-smoke.js';
import { allSettledOrThrow, eachBounded } from './concurrency.js';
import { readPushed, readRaw } from './registry.js';
import { DEFAULT_RETRY, withRetry, type RetryOptions } from './retry.js';
import type { Runner } from './runner.js';
import type { SmokeResult } from './smoke.js';

/**
 * Every image pushed by digest and checked, at most `parallelism` at once, each as soon as every
 * smoke test passed, also while its build still compiles other platforms (BuildKit shares that
 * work with the push); returns, per image, what its tags are made from (REPO@DIGEST, one per
 * part). `sizes`: also read what the tags' sizes need (not for a platform run, which tags nothing).
 */
export async function pushAll(
  plan: Plan,
  building: Building[],
  smoke: SmokeResult[],
  o: { builders: Builders; runner: Runner; tmp: string; clock: PhaseClock; parallelism: number; sizes: boolean }
): Promise<string[][]> {
  return eachBounded(building, o.parallelism, async (build, i) => {
    const name = build.image.name;
    // Its build's failure, if it still runs and fails, is the one to report.
    const push = o.clock.time(`push ${name}`, () => pushByDigest(plan, build, i, o.builders, o.runner, o.tmp));
    const [, sources] = await allSettledOrThrow<[BuildResult, string[]]>([build.built, push]);
    await o.clock.time(`check ${name}`, async () => {
      // Every manifest read at once, now, while other images push: the check and the tags' sizes
      // (tag.ts) come from these reads; a read that failed here is tried again (and reported) there.
      if (o.sizes) await readPushed(sources, o.runner).catch(() => undefined);
      await checkTested(build, sources, smoke, o.runner);
    });
    return sources;
  });
}

/** Pushes every part of a built image by digest, untagged; returns what its tags are made from (REPO@DIGEST, one per part). */
export async function pushByDigest(
  plan: Plan,
  build: Pick<BuildResult, 'image' | 'parts'>,
  i: number,
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
    const attestations = { provenance: plan.provenance, sbom: plan.sbom };
    const { metadata } = await withRetry(
      `Pushing ${img.name} (${part.platforms.join(', ')}) by digest`,
      () =>
        exportPart(
          plan,
          img,
          part,
          builders.runner.name,
          { type: 'push-by-digest', repository, rewriteTimestamp, attestations },
          join(tmp, `push-${i}-${j}.json`),
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

/** Checks, for every smoke-tested platform of an image, that the manifest pushed for it is the image that ran. */
export async function checkTested(
  build: Pick<BuildResult, 'image' | 'parts'>,
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
 * image ID that was smoke-tested, that this manifest is that image: the engine's image ID is the
 * manifest's digest (containerd image store) or its config digest (classic store). Returns the
 * manifest digest.
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
  const top = await readRaw<IndexDoc>(source, runner, retry);
  const manifest = top.manifests ? platformManifest(top, platform)?.digest : source.slice(repo.length + 1);
  if (!manifest) throw new Error(`${name}: the image pushed by digest (${source}) has no ${platform} manifest`);
  if (imageId === undefined) return manifest;
  const config = (await readRaw<ManifestDoc>(`${repo}@${manifest}`, runner, retry)).config?.digest;
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
