// Remote build nodes export their platforms as OCI layouts (--output type=oci,tar=false); this
// merges the layouts of one image into one multi-platform layout (union of blobs, a new image
// index) and writes it as a tar for `docker load`, which puts it in the engine's containerd image
// store under every ref, where the smoke tests run it and from where it is pushed.
import { createHash } from 'node:crypto';
import {
  closeSync,
  copyFileSync,
  existsSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  statSync,
  writeFileSync,
  writeSync
} from 'node:fs';
import { join } from 'node:path';

export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const INDEX_TYPES = new Set([OCI_INDEX, 'application/vnd.docker.distribution.manifest.list.v2+json']);

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { os: string; architecture: string; variant?: string };
  annotations?: Record<string, string>;
}

const platformKey = (p: Descriptor['platform']): string => [p?.os, p?.architecture, p?.variant].filter(Boolean).join('/');

/**
 * Pure: the platform manifests of several layouts' index.json entries, as one image index. An
 * entry that is itself an index (provenance attestations) contributes its children. One layout
 * names the same manifest once per tag (BuildKit ≥ 0.20 writes an index.json entry per
 * `--tag`): counted once. A platform built twice (by two nodes) is an error.
 */
export function mergeManifests(entries: Descriptor[], readIndex: (d: Descriptor) => Descriptor[]): Descriptor[] {
  const out: Descriptor[] = [];
  const seen = new Set<string>();
  const digests = new Set<string>();
  for (const e of entries) {
    if (digests.has(e.digest)) continue;
    digests.add(e.digest);
    const children = INDEX_TYPES.has(e.mediaType) ? readIndex(e) : [e];
    for (const c of children) {
      const d: Descriptor = { mediaType: c.mediaType, digest: c.digest, size: c.size };
      if (c.platform) d.platform = c.platform;
      if (c.annotations && c.platform?.os === 'unknown') d.annotations = c.annotations; // attestation → its image
      if (c.platform && c.platform.os !== 'unknown') {
        const k = platformKey(c.platform);
        if (seen.has(k)) throw new Error(`platform ${k} was built by two nodes`);
        seen.add(k);
      }
      out.push(d);
    }
  }
  return out;
}

/** Pure: a ref as containerd names images (docker.io/library/ filled in), which `docker load` needs. */
export function containerdName(ref: string): string {
  const slash = ref.indexOf('/');
  const first = slash < 0 ? '' : ref.slice(0, slash);
  if (slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost')) return ref;
  return slash < 0 ? `docker.io/library/${ref}` : `docker.io/${ref}`;
}

/** Pure: the index.json of the merged layout: one entry per ref, all naming the same image index. */
export function layoutIndex(indexDigest: string, indexSize: number, refs: string[]): string {
  return JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_INDEX,
    manifests: refs.map((r) => ({
      mediaType: OCI_INDEX,
      digest: indexDigest,
      size: indexSize,
      annotations: { 'io.containerd.image.name': containerdName(r), 'org.opencontainers.image.ref.name': r.slice(r.lastIndexOf(':') + 1) }
    }))
  });
}

const blobPath = (dir: string, digest: string): string => join(dir, 'blobs', ...digest.split(':'));
const readJson = <T>(p: string): T => JSON.parse(readFileSync(p, 'utf8')) as T;

/** Merges OCI layout directories into `out`; returns the digest of the new image index. */
export function mergeLayouts(inputs: string[], out: string, refs: string[]): string {
  mkdirSync(join(out, 'blobs', 'sha256'), { recursive: true });
  writeFileSync(join(out, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const entries: { dir: string; d: Descriptor }[] = [];
  for (const dir of inputs) {
    for (const alg of readdirSync(join(dir, 'blobs'))) {
      mkdirSync(join(out, 'blobs', alg), { recursive: true });
      for (const f of readdirSync(join(dir, 'blobs', alg))) {
        const dst = join(out, 'blobs', alg, f);
        if (existsSync(dst)) continue;
        try {
          linkSync(join(dir, 'blobs', alg, f), dst);
        } catch {
          copyFileSync(join(dir, 'blobs', alg, f), dst);
        }
      }
    }
    for (const d of readJson<{ manifests: Descriptor[] }>(join(dir, 'index.json')).manifests) entries.push({ dir, d });
  }
  const manifests = mergeManifests(
    entries.map((e) => e.d),
    (d) => readJson<{ manifests: Descriptor[] }>(blobPath(out, d.digest)).manifests
  );
  const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests }));
  const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  writeFileSync(blobPath(out, digest), bytes);
  writeFileSync(join(out, 'index.json'), layoutIndex(digest, bytes.length, refs));
  return digest;
}

/** Writes the regular files under `dir` as a ustar archive (what `docker load` reads). */
export function writeTar(dir: string, file: string): void {
  const fd = openSync(file, 'w');
  try {
    const walk = (rel: string): void => {
      for (const name of readdirSync(join(dir, rel)).sort()) {
        const r = rel ? `${rel}/${name}` : name;
        const st = statSync(join(dir, r));
        if (st.isDirectory()) {
          writeSync(fd, tarHeader(`${r}/`, 0, '5'));
          walk(r);
        } else if (st.isFile()) {
          writeSync(fd, tarHeader(r, st.size, '0'));
          const data = readFileSync(join(dir, r));
          writeSync(fd, data);
          const pad = (512 - (data.length % 512)) % 512;
          if (pad) writeSync(fd, Buffer.alloc(pad));
        }
      }
    };
    walk('');
    writeSync(fd, Buffer.alloc(1024));
  } finally {
    closeSync(fd);
  }
}

/** Pure: one 512-byte ustar header. Names in an OCI layout are short (blobs/sha256/<64 hex> is 77). */
function tarHeader(name: string, size: number, type: '0' | '5'): Buffer {
  if (Buffer.byteLength(name) > 100) throw new Error(`tar: name too long: ${name}`);
  const h = Buffer.alloc(512);
  const put = (s: string, off: number, len: number): void => void h.write(s, off, len, 'utf8');
  const oct = (n: number, len: number): string => `${n.toString(8).padStart(len - 1, '0')}\0`;
  put(name, 0, 100);
  put(oct(type === '5' ? 0o755 : 0o644, 8), 100, 8);
  put(oct(0, 8), 108, 8);
  put(oct(0, 8), 116, 8);
  put(oct(size, 12), 124, 12);
  put(oct(0, 12), 136, 12);
  put('        ', 148, 8);
  put(type, 156, 1);
  put('ustar\0', 257, 6);
  put('00', 263, 2);
  let sum = 0;
  for (const b of h) sum += b;
  put(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8);
  return h;
}
