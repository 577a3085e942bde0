// A TUF repository on loopback that hands out a private Sigstore's trusted root and signing
// config, as Sigstore's own TUF CDN hands out the public-good ones (targets `trusted_root.json`
// and `signing_config.v0.2.json`). cosign reads it when TUF_MIRROR=<url> and
// TUF_ROOT_JSON=<rootPath> are set (cosign 3 pkg/cosign/tuf.go; TUF_ROOT is its cache): then a
// plain `cosign sign --yes REF` signs with the stand-in's services and a plain `cosign verify`
// trusts its keys, with no --signing-config or --trusted-root. One ed25519 key holds every role;
// metadata version 1, no consistent snapshots, valid for a day. Signatures are over canonical
// JSON (sorted keys, no whitespace), as go-tuf re-encodes the `signed` part to check them.
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { listen, type LoopbackServer } from './loopback-server.js';

/** Canonical JSON (securesystemslib / go-securesystemslib cjson) of plain data. */
export function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${canonical(k)}:${canonical(o[k])}`)
      .join(',')}}`;
  }
  if (typeof v === 'string') return `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  return JSON.stringify(v);
}

export interface TufRepo {
  server: LoopbackServer;
  /** TUF_MIRROR */
  url: string;
  /** TUF_ROOT_JSON: the repository's root.json, which clients trust first. */
  rootPath: string;
  /** Paths clients fetched, in order. */
  fetched: string[];
}

/** Serves `targets` (name → content) from a new repository; writes root.json into `dir`. */
export async function startTufRepo(targets: Record<string, string>, dir: string): Promise<TufRepo> {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const key = {
    keytype: 'ed25519',
    scheme: 'ed25519',
    keyval: { public: Buffer.from(publicKey.export({ format: 'jwk' }).x ?? '', 'base64url').toString('hex') }
  };
  const keyid = createHash('sha256').update(canonical(key)).digest('hex');
  const expires = new Date(Date.now() + 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const common = { spec_version: '1.0.31', version: 1, expires };
  const signed = (body: object): string => {
    const sig = sign(null, Buffer.from(canonical(body)), privateKey).toString('hex');
    return JSON.stringify({ signatures: [{ keyid, sig }], signed: body }, null, 2);
  };
  const role = { keyids: [keyid], threshold: 1 };
  const files = new Map<string, string>();
  files.set(
    '/1.root.json',
    signed({
      _type: 'root',
      ...common,
      consistent_snapshot: false,
      keys: { [keyid]: key },
      roles: { root: role, targets: role, snapshot: role, timestamp: role }
    })
  );
  const targetMeta: Record<string, { length: number; hashes: { sha256: string } }> = {};
  for (const [name, content] of Object.entries(targets)) {
    files.set(`/targets/${name}`, content);
    targetMeta[name] = { length: Buffer.byteLength(content), hashes: { sha256: createHash('sha256').update(content).digest('hex') } };
  }
  files.set('/targets.json', signed({ _type: 'targets', ...common, targets: targetMeta }));
  files.set('/snapshot.json', signed({ _type: 'snapshot', ...common, meta: { 'targets.json': { version: 1 } } }));
  files.set('/timestamp.json', signed({ _type: 'timestamp', ...common, meta: { 'snapshot.json': { version: 1 } } }));
  files.set('/root.json', files.get('/1.root.json') ?? '');
  const rootPath = join(dir, 'tuf-root.json');
  writeFileSync(rootPath, files.get('/1.root.json') ?? '');
  const fetched: string[] = [];
  const server = await listen((req) => {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    fetched.push(path);
    const body = req.method === 'GET' ? files.get(path) : undefined;
    return body === undefined ? { status: 404, body: 'not found' } : { status: 200, body, contentType: 'application/octet-stream' };
  });
  return { server, url: server.url, rootPath, fetched };
}
