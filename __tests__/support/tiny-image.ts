// Pushes the smallest real multi-platform image over the registry HTTP API, with no engine: an
// OCI index of one linux/amd64 image (an empty layer, a config), tagged. For tests that need
// something to sign, attest or point at, not something to run.
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';

const sha256 = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function check(r: Response, what: string): Promise<Response> {
  if (!r.ok) throw new Error(`${what}: ${r.status} ${await r.text()}`);
  return r;
}

/** `registry` as in an image name (localhost:5151); `auth` an Authorization header. Returns the index digest. */
export async function pushTinyIndex(registry: string, repo: string, tag: string, auth: string): Promise<string> {
  const base = `http://${registry.replace(/^localhost/, '127.0.0.1')}/v2/${repo}`;
  const blob = async (data: Buffer | string, mediaType: string) => {
    const start = await check(await fetch(`${base}/blobs/uploads/`, { method: 'POST', headers: { Authorization: auth } }), 'start upload');
    const location = new URL(start.headers.get('location') ?? '', base);
    location.searchParams.set('digest', sha256(data));
    await check(
      await fetch(location, {
        method: 'PUT',
        headers: { Authorization: auth, 'Content-Type': 'application/octet-stream' },
        body: new Uint8Array(Buffer.from(data))
      }),
      'upload'
    );
    return { mediaType, digest: sha256(data), size: Buffer.byteLength(data) };
  };
  /** PUT by `tag`, or by its own digest. */
  const manifest = async (doc: object, mediaType: string, tag?: string) => {
    const body = JSON.stringify({ schemaVersion: 2, mediaType, ...doc });
    await check(
      await fetch(`${base}/manifests/${tag ?? sha256(body)}`, {
        method: 'PUT',
        headers: { Authorization: auth, 'Content-Type': mediaType },
        body
      }),
      'put manifest'
    );
    return { mediaType, digest: sha256(body), size: Buffer.byteLength(body) };
  };
  const tar = Buffer.alloc(1024); // an empty tar: two zero blocks
  const layer = await blob(gzipSync(tar), 'application/vnd.oci.image.layer.v1.tar+gzip');
  const config = await blob(
    JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [sha256(tar)] } }),
    'application/vnd.oci.image.config.v1+json'
  );
  const image = await manifest({ config, layers: [layer] }, 'application/vnd.oci.image.manifest.v1+json');
  const index = await manifest(
    { manifests: [{ ...image, platform: { os: 'linux', architecture: 'amd64' } }] },
    'application/vnd.oci.image.index.v1+json',
    tag
  );
  return index.digest;
}
