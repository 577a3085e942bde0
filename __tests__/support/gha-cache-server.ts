// A local server that speaks the GitHub Actions cache service as GitHub's does, both protocols on
// one port, over one store of entries:
// - v2 (ACTIONS_CACHE_SERVICE_V2, ACTIONS_RESULTS_URL; github.com since 2025): Twirp JSON at
//   /twirp/github.actions.results.api.v1.CacheService/{CreateCacheEntry, FinalizeCacheEntryUpload,
//   GetCacheEntryDownloadURL}, and signed URLs that behave like Azure Blob Storage, which BuildKit
//   (go-actions-cache: UploadStream, Download with x-ms-range) and @actions/cache (single-shot PUT,
//   plain GET) drive. Every blob response carries x-ms-request-id: BuildKit's uploader reads it
//   (without it dockerd 28.5.2 panics);
// - v1 (ACTIONS_CACHE_URL; GHES): /_apis/artifactcache/ look-up, reserve, chunks, commit, download.
// It records what it served (`served`), so tests assert hits, not only a green build; `failWith`
// answers every API call with that status (fault injection); refusals (constructor option
// `refusals`, or refuse()) answer chosen v2 calls as github.com refuses them: rate limit, entry
// exists, ok:false, write denied, quota (cache-refusals.ts), optionally only for some keys.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { activeRefusal, refusalAnswer, takeRefusal, type ActiveRefusal, type Refusal, type RefusalKind } from './cache-refusals.js';

export type { CacheMethod, Refusal, RefusalKind } from './cache-refusals.js';

const TWIRP = '/twirp/github.actions.results.api.v1.CacheService/';
const BLOB = '/devstoreaccount1/cache/';

interface Entry {
  id: number;
  key: string;
  version: string;
  chunks: { start: number; data: Buffer }[];
  /** v2: staged Azure blocks by block id, and the blob once committed or put. */
  blocks: Map<string, Buffer>;
  blob?: Buffer;
  data?: Buffer;
  committedAt?: number;
}

export interface CacheServerStats {
  lookups: number;
  hits: number;
  reserved: number;
  committed: number;
  downloads: number;
  uploadedBytes: number;
}

/** One answered request: the protocol, the operation, the key, and whether an entry was found. */
export interface Served {
  protocol: 'v1' | 'v2';
  /** 'refused': a call answered by a refusal (see `refusal` and `method`). */
  op: 'lookup' | 'create' | 'upload' | 'finalize' | 'download' | 'refused';
  key?: string;
  refusal?: RefusalKind;
  /** 'refused': the Twirp method refused. */
  method?: string;
  hit?: boolean;
  /** A look-up that hit: the key of the entry it found (the key asked for, or one a restore key is a prefix of). */
  matched?: string;
}

export interface CacheServer {
  url: string; // ACTIONS_CACHE_URL and ACTIONS_RESULTS_URL, ends with '/'
  token: string; // ACTIONS_RUNTIME_TOKEN: a JWT with the claims BuildKit reads (ac, exp, nbf)
  /** The runner's variables for one protocol, as a hosted runner (v2) or GHES (v1) sets them. */
  env(protocol: 'v1' | 'v2'): Record<string, string>;
  stats: CacheServerStats;
  served: Served[];
  /** Answer every API request with this status (e.g. 503) while set. */
  failWith?: number;
  /** Refuse v2 calls from now on as github.com does (in order: the first that applies answers). */
  refuse(r: Refusal): void;
  /** Drop every refusal. */
  clearRefusals(): void;
  /** How many calls were refused, by kind. */
  refused(): Partial<Record<RefusalKind, number>>;
  entries(): string[];
  close(): Promise<void>;
}

const b64url = (s: string): string => Buffer.from(s).toString('base64url');

export function runtimeToken(scope = 'refs/heads/main'): string {
  const now = Math.floor(Date.now() / 1000);
  const claims = { ac: JSON.stringify([{ Scope: scope, Permission: 3 }]), exp: now + 6 * 3600, nbf: now - 60, iat: now - 60 };
  return `${b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${b64url(JSON.stringify(claims))}.${b64url('local-test-signature')}`;
}

export interface CacheServerOptions {
  /** Refusals from the start (refuse() adds more). */
  refusals?: Refusal[];
}

export async function startCacheServer(opts: CacheServerOptions = {}): Promise<CacheServer> {
  const refusals: ActiveRefusal[] = (opts.refusals ?? []).map(activeRefusal);
  const entries = new Map<number, Entry>();
  let nextId = 1;
  const stats: CacheServerStats = { lookups: 0, hits: 0, reserved: 0, committed: 0, downloads: 0, uploadedBytes: 0 };
  const served: Served[] = [];
  const token = runtimeToken();
  const api = '/_apis/artifactcache/';
  let base = '';

  const json = (res: ServerResponse, status: number, body?: unknown): void => {
    res.writeHead(status, body === undefined ? {} : { 'Content-Type': 'application/json' });
    res.end(body === undefined ? undefined : JSON.stringify(body));
  };
  const readBody = async (req: IncomingMessage): Promise<Buffer> => {
    const parts: Buffer[] = [];
    for await (const c of req) parts.push(c as Buffer);
    return Buffer.concat(parts);
  };

  /** The exact key first, then each key as a prefix; the newest committed entry of that version. */
  const match = (keys: string[], version: string): Entry | undefined => {
    const done = [...entries.values()]
      .filter((e) => e.data && e.version === version)
      .sort((a, b) => (b.committedAt ?? 0) - (a.committedAt ?? 0));
    for (const k of keys) {
      const hit = done.find((e) => e.key === k) ?? done.find((e) => e.key.startsWith(k));
      if (hit) return hit;
    }
    return undefined;
  };

  const twirpError = (res: ServerResponse, status: number, code: string, msg: string): void => json(res, status, { code, msg });

  /** v2: the Twirp cache service (JSON; int64 fields travel as strings). */
  const twirp = async (req: IncomingMessage, res: ServerResponse, method: string): Promise<void> => {
    if (req.headers.authorization !== `Bearer ${token}`) return twirpError(res, 401, 'unauthenticated', 'bad token');
    const body = JSON.parse((await readBody(req)).toString() || '{}') as {
      key?: string;
      version?: string;
      restore_keys?: string[];
      size_bytes?: string | number;
    };
    if (srv.failWith) return twirpError(res, srv.failWith, 'unavailable', `injected ${srv.failWith}`);
    const key = body.key ?? '';
    const version = body.version ?? '';
    const refusal = takeRefusal(refusals, method, key);
    if (refusal) {
      served.push({ protocol: 'v2', op: 'refused', key, refusal: refusal.kind, method });
      const a = refusalAnswer(refusal);
      res.writeHead(a.status, a.headers);
      return void res.end(JSON.stringify(a.body));
    }
    if (method === 'GetCacheEntryDownloadURL') {
      stats.lookups++;
      const hit = match([key, ...(body.restore_keys ?? [])], version);
      served.push({ protocol: 'v2', op: 'lookup', key, hit: Boolean(hit), ...(hit ? { matched: hit.key } : {}) });
      if (!hit) return json(res, 200, { ok: false, signed_download_url: '', matched_key: '' });
      stats.hits++;
      return json(res, 200, { ok: true, signed_download_url: signed(hit.id, 'r'), matched_key: hit.key });
    }
    if (method === 'CreateCacheEntry') {
      if ([...entries.values()].some((e) => e.key === key && e.version === version)) {
        return twirpError(res, 409, 'already_exists', 'cache entry with the same key, version, and scope already exists');
      }
      const id = nextId++;
      entries.set(id, { id, key, version, chunks: [], blocks: new Map() });
      stats.reserved++;
      served.push({ protocol: 'v2', op: 'create', key });
      return json(res, 200, { ok: true, signed_upload_url: signed(id, 'cw') });
    }
    if (method === 'FinalizeCacheEntryUpload') {
      const e = [...entries.values()].find((x) => x.key === key && x.version === version && !x.data);
      if (!e?.blob) return twirpError(res, 404, 'not_found', 'no uploaded blob for this key and version');
      if (Number(body.size_bytes) !== e.blob.length) {
        return twirpError(res, 400, 'invalid_argument', `size_bytes ${body.size_bytes} is not the blob's ${e.blob.length}`);
      }
      e.data = e.blob;
      e.committedAt = Date.now() + e.id / 1e6;
      stats.committed++;
      served.push({ protocol: 'v2', op: 'finalize', key });
      return json(res, 200, { ok: true, entry_id: String(e.id) });
    }
    return twirpError(res, 404, 'bad_route', `no such method ${method}`);
  };

  /** A signed URL of an entry's blob, in the path style Azure's SDKs take for a storage emulator. */
  const signed = (id: number, sp: string): string => `${base}${BLOB.slice(1)}${id}?sv=2024-11-04&sp=${sp}&sig=local-test`;

  /** v2: the blob store, as Azure Blob Storage answers (the headers the SDKs read included). */
  const blob = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    const e = entries.get(Number(url.pathname.slice(BLOB.length)));
    const headers = (more: Record<string, string> = {}): Record<string, string> => ({
      'x-ms-request-id': randomUUID(),
      'x-ms-version': '2024-11-04',
      Date: new Date().toUTCString(),
      ...more
    });
    const send = (status: number, more: Record<string, string> = {}, body?: Buffer): void => {
      res.writeHead(status, headers({ 'Content-Length': String(body?.length ?? 0), ...more }));
      res.end(body);
    };
    if (!e || url.searchParams.get('sig') !== 'local-test') {
      await readBody(req);
      return send(404, { 'x-ms-error-code': 'BlobNotFound' });
    }
    const etag = `"0x${e.id.toString(16).padStart(8, '0')}"`;
    const written = { ETag: etag, 'Last-Modified': new Date().toUTCString() };
    if (req.method === 'PUT') {
      const data = await readBody(req);
      const comp = url.searchParams.get('comp');
      if (comp === 'block') {
        e.blocks.set(url.searchParams.get('blockid') ?? '', data);
        stats.uploadedBytes += data.length;
        return send(201, { 'x-ms-request-server-encrypted': 'true' });
      }
      if (comp === 'blocklist') {
        const ids = [...data.toString().matchAll(/<(?:Latest|Committed|Uncommitted)>([^<]*)<\//g)].map((m) => m[1] ?? '');
        const parts = ids.map((id) => e.blocks.get(id));
        if (parts.some((p) => !p)) return send(400, { 'x-ms-error-code': 'InvalidBlockList' });
        e.blob = Buffer.concat(parts as Buffer[]);
        e.blocks.clear();
        served.push({ protocol: 'v2', op: 'upload', key: e.key });
        return send(201, { ...written, 'x-ms-request-server-encrypted': 'true' });
      }
      if (req.headers['x-ms-blob-type'] === 'BlockBlob') {
        e.blob = data;
        stats.uploadedBytes += data.length;
        served.push({ protocol: 'v2', op: 'upload', key: e.key });
        return send(201, { ...written, 'x-ms-request-server-encrypted': 'true' });
      }
      return send(400, { 'x-ms-error-code': 'InvalidHeaderValue' });
    }
    if (req.method === 'GET' || req.method === 'HEAD') {
      const data = e.data;
      if (!data) return send(404, { 'x-ms-error-code': 'BlobNotFound' });
      stats.downloads++;
      served.push({ protocol: 'v2', op: 'download', key: e.key });
      const range = /^bytes=(\d+)-(\d*)$/.exec(String(req.headers['x-ms-range'] ?? req.headers.range ?? ''));
      const common = { ...written, 'Accept-Ranges': 'bytes', 'x-ms-blob-type': 'BlockBlob', 'Content-Type': 'application/octet-stream' };
      if (!range) return send(200, common, req.method === 'HEAD' ? undefined : data);
      const start = Number(range[1]);
      const end = range[2] ? Math.min(Number(range[2]), data.length - 1) : data.length - 1;
      if (start >= data.length) return send(416, { 'Content-Range': `bytes */${data.length}`, 'x-ms-error-code': 'InvalidRange' });
      const body = data.subarray(start, end + 1);
      return send(206, { ...common, 'Content-Range': `bytes ${start}-${end}/${data.length}` }, req.method === 'HEAD' ? undefined : body);
    }
    return send(405);
  };

  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const path = url.pathname;
      if (path.startsWith('/download/')) {
        const e = entries.get(Number(path.slice('/download/'.length)));
        if (!e?.data) return json(res, 404, { message: 'no such entry' });
        stats.downloads++;
        served.push({ protocol: 'v1', op: 'download', key: e.key });
        const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
        const start = m ? Number(m[1]) : 0;
        const body = e.data.subarray(start);
        res.writeHead(m ? 206 : 200, {
          'Content-Length': String(body.length),
          ...(m ? { 'Content-Range': `bytes ${start}-${e.data.length - 1}/${e.data.length}` } : {})
        });
        return res.end(body);
      }
      if (path.startsWith(BLOB)) return blob(req, res, url);
      if (path.startsWith(TWIRP)) return twirp(req, res, path.slice(TWIRP.length));
      if (!path.startsWith(api)) return json(res, 404, { message: 'not found' });
      if (req.headers.authorization !== `Bearer ${token}`) return json(res, 401, { message: 'bad token' });
      if (srv.failWith) {
        await readBody(req);
        return json(res, srv.failWith, { message: `injected ${srv.failWith}`, typeKey: 'InjectedFault' });
      }
      const rest = path.slice(api.length);
      if (req.method === 'GET' && rest === 'cache') {
        stats.lookups++;
        const keys = (url.searchParams.get('keys') ?? '').split(',').filter(Boolean);
        const version = url.searchParams.get('version') ?? '';
        const hit = match(keys, version);
        served.push({ protocol: 'v1', op: 'lookup', key: keys[0], hit: Boolean(hit), ...(hit ? { matched: hit.key } : {}) });
        if (hit) {
          stats.hits++;
          return json(res, 200, { cacheKey: hit.key, scope: 'refs/heads/main', archiveLocation: `${base}download/${hit.id}` });
        }
        return json(res, 204);
      }
      if (req.method === 'POST' && rest === 'caches') {
        const body = JSON.parse((await readBody(req)).toString() || '{}') as { key?: string; version?: string };
        if ([...entries.values()].some((e) => e.key === body.key && e.version === body.version)) {
          return json(res, 409, {
            message: `Cache already exists. Scope: refs/heads/main, Key: ${body.key}`,
            typeKey: 'ArtifactCacheEntryAlreadyExistsException'
          });
        }
        served.push({ protocol: 'v1', op: 'create', key: body.key });
        const id = nextId++;
        entries.set(id, { id, key: body.key ?? '', version: body.version ?? '', chunks: [], blocks: new Map() });
        stats.reserved++;
        return json(res, 201, { cacheId: id, cacheID: id });
      }
      const m = /^caches\/(\d+)$/.exec(rest);
      const e = m ? entries.get(Number(m[1])) : undefined;
      if (m && !e) return json(res, 404, { message: 'no such cache' });
      if (e && req.method === 'PATCH') {
        const r = /^bytes (\d+)-(\d+)\/\*$/.exec(req.headers['content-range'] ?? '');
        const data = await readBody(req);
        if (!r) return json(res, 400, { message: 'bad content-range' });
        e.chunks.push({ start: Number(r[1]), data });
        stats.uploadedBytes += data.length;
        return json(res, 204);
      }
      if (e && req.method === 'POST') {
        const { size } = JSON.parse((await readBody(req)).toString() || '{}') as { size?: number };
        const buf = Buffer.alloc(size ?? 0);
        for (const c of e.chunks) c.data.copy(buf, c.start);
        e.data = buf;
        e.chunks = [];
        e.committedAt = Date.now() + e.id / 1e6;
        stats.committed++;
        served.push({ protocol: 'v1', op: 'finalize', key: e.key });
        return json(res, 204);
      }
      return json(res, 405, { message: `${req.method} ${path}` });
    })().catch((err: unknown) => json(res, 500, { message: String(err) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  const srv: CacheServer = {
    url: base,
    token,
    env: (protocol): Record<string, string> =>
      protocol === 'v2'
        ? { ACTIONS_CACHE_SERVICE_V2: 'True', ACTIONS_RESULTS_URL: base, ACTIONS_RUNTIME_TOKEN: token }
        : { ACTIONS_CACHE_URL: base, ACTIONS_RUNTIME_TOKEN: token },
    stats,
    served,
    refuse: (r) => void refusals.push(activeRefusal(r)),
    clearRefusals: () => void (refusals.length = 0),
    refused: () => {
      const c: Partial<Record<RefusalKind, number>> = {};
      for (const s of served) if (s.refusal) c[s.refusal] = (c[s.refusal] ?? 0) + 1;
      return c;
    },
    entries: () => [...entries.values()].filter((e) => e.data).map((e) => e.key),
    // dockerd keeps its keep-alive connections to the server open: close them too, or close() waits for them.
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      })
  };
  return srv;
}
