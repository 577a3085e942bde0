// Push: the images that were smoke-tested are pushed from the engine's image store, every tag of
// every name, and then read back from the registry: the digest and per-platform sizes reported
// are the registry's.
import * as core from '@actions/core';
import type { PlannedImage } from '../plan/types.js';
import { withRetry, type RetryOptions, DEFAULT_RETRY } from './retry.js';
import type { Runner } from './runner.js';

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

export async function inspectRemote(ref: string, runner: Runner): Promise<{ digest: string; sizes: Record<string, number> }> {
  const digestOut = await runner.docker(['buildx', 'imagetools', 'inspect', ref, '--format={{json .Manifest}}'], { silent: true });
  const digest = (JSON.parse(digestOut.stdout) as Descriptor).digest;
  const raw = await runner.docker(['buildx', 'imagetools', 'inspect', ref, '--raw'], { silent: true });
  const index = JSON.parse(raw.stdout) as { manifests?: Descriptor[]; layers?: unknown };
  const repo = ref.replace(/:[^:/]+$/, '');
  const manifests: Record<string, { config?: { size: number }; layers?: { size: number }[] }> = {};
  for (const d of index.manifests ?? []) {
    if (!d.platform || d.platform.os === 'unknown') continue;
    const m = await runner.docker(['buildx', 'imagetools', 'inspect', `${repo}@${d.digest}`, '--raw'], { silent: true });
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
  for (const ref of img.refs) {
    const res = await core.group(`Push ${ref}`, () => withRetry(`docker push ${ref}`, () => runner.docker(['push', ref]), retry));
    const digest = parsePushDigest(res.stdout);
    core.info(`Pushed ${ref}${digest ? ` (${digest})` : ''}`);
    pushedRefs.push(ref);
    pushed(ref);
  }
  const first = img.refs[0];
  const remote = first ? await inspectRemote(first, runner) : { digest: '', sizes: {} };
  return { name: img.name, digest: remote.digest, sizes: remote.sizes, pushedRefs };
}
