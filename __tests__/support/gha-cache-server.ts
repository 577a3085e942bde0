// A local server that speaks the GitHub Actions cache service v1 API (ACTIONS_CACHE_URL), as
// BuildKit 0.13's type=gha cache uses it: look up, reserve, upload chunks, commit, download.
// For e2e tests of the gha cache path, with fault injection (5xx answers) for the hardening tests.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

interface Entry {
  id: number;
  key: string;
  version: string;
  chunks: { start: number; data: Buffer }[];
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

export interface CacheServer {
  url: string; // ACTIONS_CACHE_URL, ends with '/'
  token: string; // ACTIONS_RUNTIME_TOKEN: a JWT with the claims BuildKit reads (ac, exp, nbf)
  stats: CacheServerStats;
  /** Answer every API request with this status (e.g. 503) while set. */
  failWith?: number;
  entries(): string[];
  close(): Promise<void>;
}

const b64url = (s: string): string => Buffer.from(s).toString('base64url');

export function runtimeToken(scope = 'refs/heads/main'): string {
  const now = Math.floor(Date.now() / 1000);
  const claims = { ac: JSON.stringify([{ Scope: scope, Permission: 3 }]), exp: now + 6 * 3600, nbf: now - 60, iat: now - 60 };
  return `${b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${b64url(JSON.stringify(claims))}.${b64url('local-test-signature')}`;
}

export async function startCacheServer(): Promise<CacheServer> {
  const entries = new Map<number, Entry>();
  let nextId = 1;
  const stats: CacheServerStats = { lookups: 0, hits: 0, reserved: 0, committed: 0, downloads: 0, uploadedBytes: 0 };
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

  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const path = url.pathname;
      if (path.startsWith('/download/')) {
        const e = entries.get(Number(path.slice('/download/'.length)));
        if (!e?.data) return json(res, 404, { message: 'no such entry' });
        stats.downloads++;
        const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
        const start = m ? Number(m[1]) : 0;
        const body = e.data.subarray(start);
        res.writeHead(m ? 206 : 200, {
          'Content-Length': String(body.length),
          ...(m ? { 'Content-Range': `bytes ${start}-${e.data.length - 1}/${e.data.length}` } : {})
        });
        return res.end(body);
      }
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
        const done = [...entries.values()]
          .filter((e) => e.data && e.version === version)
          .sort((a, b) => (b.committedAt ?? 0) - (a.committedAt ?? 0));
        for (const k of keys) {
          const hit = done.find((e) => e.key === k) ?? done.find((e) => e.key.startsWith(k));
          if (hit) {
            stats.hits++;
            return json(res, 200, { cacheKey: hit.key, scope: 'refs/heads/main', archiveLocation: `${base}download/${hit.id}` });
          }
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
        const id = nextId++;
        entries.set(id, { id, key: body.key ?? '', version: body.version ?? '', chunks: [] });
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
    stats,
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
