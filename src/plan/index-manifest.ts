// Image indexes and manifests as a registry serves them, pure: per-platform sizes, the manifest of
// one platform (attestations left out), a platform as the plan spells it, and the digest of the
// index `buildx imagetools create --dry-run` prints.
import { createHash } from 'node:crypto';

export interface Descriptor {
  mediaType?: string;
  digest: string;
  size: number;
  platform?: { os: string; architecture: string; variant?: string };
  annotations?: Record<string, string>;
}

export interface IndexDoc {
  manifests?: Descriptor[];
}

export interface ManifestDoc {
  config?: { digest?: string; size: number };
  layers?: { size: number }[];
}

/** Per-platform image sizes (config + layers) from an index and its manifests. */
export function platformSizes(index: IndexDoc, manifests: Record<string, ManifestDoc>): Record<string, number> {
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

/** The manifests of an index that are images (not attestations, platform unknown/unknown). */
export function imageManifests(index: IndexDoc): Descriptor[] {
  return (index.manifests ?? []).filter((d) => d.platform && d.platform.os !== 'unknown');
}

/** The digest of the index `imagetools create --dry-run` prints (the bytes it would push, then a new line); '' when the output is not an index. */
export function indexDigestOf(stdout: string): string {
  const body = stdout.endsWith('\n') ? stdout.slice(0, -1) : stdout;
  try {
    if (!Array.isArray((JSON.parse(body) as IndexDoc).manifests)) return '';
  } catch {
    return '';
  }
  return `sha256:${createHash('sha256').update(body).digest('hex')}`;
}

/** A platform as the plan spells it, from an index descriptor (arm64's v8 is implied). */
export function platformKey(p: { os: string; architecture: string; variant?: string }): string {
  return [p.os, p.architecture, p.architecture === 'arm64' && p.variant === 'v8' ? undefined : p.variant].filter(Boolean).join('/');
}

/** The manifest of one platform in an index, attestations left out. */
export function platformManifest(index: IndexDoc, platform: string): Descriptor | undefined {
  const want = platform.replace(/^(linux\/arm64)\/v8$/, '$1');
  return imageManifests(index).find((d) => d.platform && platformKey(d.platform) === want);
}
