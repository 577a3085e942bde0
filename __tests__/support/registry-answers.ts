// What the fault proxy needs to know about registry API requests and answers besides forwarding
// them: where a manifest PUT goes (repository and reference), whether it is a signature upload
// (cosign's `sha256-<hex>.sig` / `.att` tags, the OCI referrers tag `sha256-<hex>`, or an OCI
// referrer: a manifest with a `subject`), its digest, and the answers the proxy gives instead of
// the registry: "201 Created" for a manifest it did not store, and the 404 that the distribution
// registry 2.8 gives for `/v2/<name>/referrers/<digest>` (it has no referrers API: checked with
// curl against localhost:5151, Debian docker-registry 2.8.2).
import { createHash } from 'node:crypto';

/** cosign's tags next to an image: `sha256-<hex>.sig`, `.att`, `.sbom`, and the referrers tag `sha256-<hex>`. */
export const COSIGN_TAG = /^sha256-[0-9a-f]{64}(\.(sig|att|sbom))?$/;

/** The manifest a PUT or GET names: repository and reference (a tag or a digest). */
export interface ManifestTarget {
  repository: string;
  reference: string;
}

export function manifestTarget(path: string): ManifestTarget | undefined {
  const m = /^\/v2\/(.+)\/manifests\/([^/?]+)$/.exec(path.split('?')[0] ?? '');
  return m ? { repository: m[1] ?? '', reference: decodeURIComponent(m[2] ?? '') } : undefined;
}

/** True for the referrers API: GET or HEAD /v2/<name>/referrers/<digest>[?artifactType=…]. */
export function isReferrersRequest(method: string, path: string): boolean {
  return (method === 'GET' || method === 'HEAD') && /^\/v2\/.+\/referrers\/[^/?]+$/.test(path.split('?')[0] ?? '');
}

/** The digest a registry gives a manifest: sha256 of the bytes as sent. */
export function manifestDigest(body: Buffer): string {
  return `sha256:${createHash('sha256').update(body).digest('hex')}`;
}

/** Why a manifest PUT is a signature upload: its tag, or the `subject` in its body; undefined if it is not one. */
export type SignatureReason = 'tag' | 'subject';

export function signatureUpload(target: ManifestTarget, body: Buffer, tag: RegExp): SignatureReason | undefined {
  if (!target.reference.startsWith('sha256:') && tag.test(target.reference)) return 'tag';
  try {
    const m = JSON.parse(body.toString('utf8')) as { subject?: { digest?: unknown } };
    if (typeof m.subject?.digest === 'string') return 'subject';
  } catch {
    // Not JSON: not a manifest the proxy knows; forwarded as it is.
  }
  return undefined;
}

/**
 * The headers distribution sends with "201 Created" for a manifest PUT (Location, Docker-Content-Digest,
 * no body). No `OCI-Subject`: distribution 2.8 does not send it, so an OCI 1.1 client (go-containerregistry,
 * cosign) then also writes the referrers tag `sha256-<subject hex>`.
 */
export function manifestCreatedHeaders(target: ManifestTarget, digest: string): Record<string, string> {
  return {
    'Docker-Distribution-Api-Version': 'registry/2.0',
    'Docker-Content-Digest': digest,
    Location: `/v2/${target.repository}/manifests/${digest}`,
    'Content-Length': '0'
  };
}

/** distribution 2.8's answer to a route it does not have (Go's mux NotFound): text, not a registry JSON error. */
export const NO_ROUTE = {
  status: 404,
  headers: {
    'Content-Type': 'text/plain; charset=utf-8',
    'Docker-Distribution-Api-Version': 'registry/2.0',
    'X-Content-Type-Options': 'nosniff'
  },
  body: '404 page not found\n'
};
