// Push: the images that were smoke-tested are pushed from the engine's image store, every tag of
// every name, and then read back from the registry: the digest and per-platform sizes reported
// are the registry's. Every registry call is retried on transient faults (retry.ts); a read-back
// that still fails after an image was pushed reports the digest the registry accepted from
// `docker push`, with a warning, so a pushed image is never reported as not pushed.
import * as core from '@actions/core';
import type { PlannedImage } from '../plan/types.js';
import { withRetry, type RetryOptions, DEFAULT_RETRY } from './retry.js';
import type { ExecResult, Runner } from './runner.js';

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

/** The digest `docker push` reports on its last line: "<tag>: digest: sha256:... size: N". */
export function parsePushDigest(out: string): string | undefined {
  const all = [...out.matchAll(/digest: (sha256:[0-9a-f]{64})/g)];
  return all.at(-1)?.[1];
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
  const inspect = (target: string, format: string): Promise<ExecResult> =>
    withRetry(
      `Reading ${target} back from the registry`,
      () => runner.docker(['buildx', 'imagetools', 'inspect', target, format], { silent: true }),
      retry
    );
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

export async function pushImage(
  img: PlannedImage,
  runner: Runner,
  pushed: (ref: string) => void,
  retry: RetryOptions = DEFAULT_RETRY
): Promise<PushedImage> {
  const pushedRefs: string[] = [];
  let pushDigest: string | undefined;
  for (const ref of img.refs) {
    const res = await core.group(`Push ${ref}`, () => withRetry(`docker push ${ref}`, () => runner.docker(['push', ref]), retry));
    const digest = parsePushDigest(res.stdout);
    pushDigest ??= digest;
    core.info(`Pushed ${ref}${digest ? ` (${digest})` : ''}`);
    pushedRefs.push(ref);
    pushed(ref);
  }
  const first = img.refs[0];
  if (!first) return { name: img.name, digest: '', sizes: {}, pushedRefs };
  try {
    const remote = await inspectRemote(first, runner, retry);
    return { name: img.name, digest: remote.digest, sizes: remote.sizes, pushedRefs };
  } catch (e) {
    // Pushed, but not read back: the digest docker push printed is the one the registry accepted.
    if (!pushDigest) throw e;
    core.warning(
      `${img.name} was pushed (${pushDigest}), but could not be read back from the registry, so its sizes are not reported: ${(e as Error).message.split('\n')[0]}`
    );
    return { name: img.name, digest: pushDigest, sizes: {}, pushedRefs };
  }
}
