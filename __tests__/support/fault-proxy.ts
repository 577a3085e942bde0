// A small HTTP reverse proxy in front of the local test registry, for fault injection: answer the
// next N (or every) matching request with 429 (Retry-After: 1) or 503 instead of forwarding it,
// or "go away" (close the listener and every open socket) once a matching request has been
// answered, so the registry becomes unreachable in the middle of a run; or hold requests at a
// barrier so that two clients really talk to the registry at once. It counts what it saw.
// Listens on 127.0.0.1 (an ephemeral port): Docker treats 127.0.0.0/8 registries as insecure,
// so the engine and buildx talk plain HTTP to it.
import { Agent, createServer, request, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** What a request is, in registry API terms. */
export type RequestKind = 'ping' | 'manifest' | 'upload' | 'blob' | 'tags' | 'other';

export interface Match {
  /** HTTP method, e.g. 'PUT'; any when not given. */
  method?: string;
  /** Tested against the path and query, e.g. /\/manifests\/(?!sha256:)/. */
  path?: RegExp;
  /** Tested against the request's Content-Type, e.g. /image\.index/ for an index PUT. */
  contentType?: RegExp;
}

export interface SeenRequest {
  method: string;
  path: string;
  kind: RequestKind;
  /** The status the client got: the registry's, or the injected fault's. */
  status: number;
  injected: boolean;
  /** When it arrived and when its answer was sent (Date.now()). */
  at: number;
  done?: number;
}

export interface FaultProxy {
  /** host:port to use as the registry, e.g. 127.0.0.1:41234. */
  address: string;
  /** Answer the next `n` requests matching `match` with `status` (429 comes with Retry-After: 1). */
  failNext(n: number, match: Match, status: number): void;
  /** Answer every request matching `match` with `status` until clear(). */
  failAll(match: Match, status: number): void;
  /** Once a request matching `match` has been answered: stop listening and destroy every socket. */
  goAwayAfter(match: Match): void;
  /**
   * Hold the first request matching each of `parts` until every part has one (or `timeoutMs` has
   * passed), then forward them together: e.g. one manifest PUT of each of two concurrent pushes.
   */
  barrier(parts: Match[], timeoutMs?: number): void;
  /** True when a barrier let its requests go because of its timeout, not because all arrived. */
  barrierTimedOut(): boolean;
  /** Drop every rule not yet used up. */
  clear(): void;
  /** Every request seen, in order. */
  readonly seen: SeenRequest[];
  /** Requests seen per "METHOD kind", e.g. { 'GET ping': 3, 'PUT manifest': 2 }. */
  counts(): Record<string, number>;
  /** How many answers were injected faults. */
  injected(): number;
  /** True once the proxy went away (goAwayAfter, or close()). */
  readonly gone: boolean;
  close(): Promise<void>;
}

export function requestKind(path: string): RequestKind {
  const p = path.split('?')[0] ?? '';
  if (p === '/v2/' || p === '/v2') return 'ping';
  if (/^\/v2\/.+\/manifests\/[^/]+$/.test(p)) return 'manifest';
  if (/^\/v2\/.+\/blobs\/uploads\//.test(p)) return 'upload';
  if (/^\/v2\/.+\/blobs\/[^/]+$/.test(p)) return 'blob';
  if (/^\/v2\/.+\/tags\/list$/.test(p)) return 'tags';
  return 'other';
}

const FAULT_BODY: Record<number, { code: string; message: string }> = {
  429: { code: 'TOOMANYREQUESTS', message: 'too many requests (injected by the test proxy)' },
  503: { code: 'UNAVAILABLE', message: 'service unavailable (injected by the test proxy)' }
};

interface Barrier {
  parts: Match[];
  /** Part index → the held request's go-ahead. */
  held: Map<number, () => void>;
  open: boolean;
  timedOut?: boolean;
  timer?: NodeJS.Timeout;
}

interface Rule {
  match: Match;
  status: number;
  remaining: number;
}

function matches(m: Match, req: IncomingMessage): boolean {
  return (
    (!m.method || m.method.toUpperCase() === req.method) &&
    (!m.path || m.path.test(req.url ?? '')) &&
    (!m.contentType || m.contentType.test(req.headers['content-type'] ?? ''))
  );
}

/** Hop-by-hop headers are not forwarded (RFC 9110 7.6.1). */
function forwardHeaders(h: IncomingHttpHeaders): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = { ...h };
  for (const k of ['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer']) delete out[k];
  return out;
}

export async function startFaultProxy(upstream = { host: '127.0.0.1', port: 5151 }): Promise<FaultProxy> {
  const rules: Rule[] = [];
  const goAway: Match[] = [];
  const barriers: Barrier[] = [];
  const seen: SeenRequest[] = [];
  const sockets = new Set<Socket>();
  const agent = new Agent({ keepAlive: true });
  let gone = false;

  const shutDown = (): Promise<void> =>
    new Promise((resolve) => {
      if (gone) return resolve();
      gone = true;
      server.close(() => resolve());
      for (const s of sockets) s.destroy();
      sockets.clear();
      agent.destroy();
    });

  const afterAnswer = (req: IncomingMessage): void => {
    // Once the answer is on its way (setImmediate: after it was handed to the socket).
    if (goAway.some((m) => matches(m, req))) setImmediate(() => void shutDown());
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const path = req.url ?? '/';
    const entry: SeenRequest = { method: req.method ?? '?', path, kind: requestKind(path), status: 0, injected: false, at: Date.now() };
    seen.push(entry);
    res.on('finish', () => {
      entry.done = Date.now();
      afterAnswer(req);
    });

    const rule = rules.find((r) => r.remaining > 0 && matches(r.match, req));
    if (rule) {
      rule.remaining--;
      entry.status = rule.status;
      entry.injected = true;
      // Read the request body before answering, as a registry would.
      req.resume();
      req.on('end', () => {
        const body = FAULT_BODY[rule.status] ?? { code: 'UNKNOWN', message: `status ${rule.status} (injected by the test proxy)` };
        res.writeHead(rule.status, {
          'Content-Type': 'application/json',
          'Docker-Distribution-Api-Version': 'registry/2.0',
          ...(rule.status === 429 ? { 'Retry-After': '1' } : {})
        });
        res.end(JSON.stringify({ errors: [body] }));
      });
      return;
    }

    for (const b of barriers) {
      const i = b.open ? b.parts.findIndex((m, k) => !b.held.has(k) && matches(m, req)) : -1;
      if (i < 0) continue;
      b.held.set(i, () => forward(req, res, entry));
      if (b.held.size === b.parts.length) release(b);
      return;
    }
    forward(req, res, entry);
  };

  const release = (b: Barrier): void => {
    clearTimeout(b.timer);
    b.open = false;
    for (const go of b.held.values()) go();
    b.held.clear();
  };

  const forward = (req: IncomingMessage, res: ServerResponse, entry: SeenRequest): void => {
    const path = req.url ?? '/';
    const up = request(
      { host: upstream.host, port: upstream.port, method: req.method, path, headers: forwardHeaders(req.headers), agent },
      (ur) => {
        entry.status = ur.statusCode ?? 0;
        res.writeHead(ur.statusCode ?? 502, forwardHeaders(ur.headers));
        ur.pipe(res);
      }
    );
    up.on('error', (e) => {
      entry.status = 502;
      if (!res.headersSent) res.writeHead(502, { 'Content-Type': 'text/plain' });
      res.end(`test proxy: upstream error: ${e.message}`);
    });
    req.pipe(up);
  };

  const server = createServer(handle);
  server.keepAliveTimeout = 30_000;
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  // Docker tries HTTPS first on an insecure registry and falls back to HTTP only when the answer
  // to its TLS hello is an HTTP response ("server gave HTTP response to HTTPS client").
  server.on('clientError', (_e, socket: Socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    address: `127.0.0.1:${port}`,
    failNext: (n, match, status) => void rules.push({ match, status, remaining: n }),
    failAll: (match, status) => void rules.push({ match, status, remaining: Infinity }),
    goAwayAfter: (match) => void goAway.push(match),
    barrier: (parts, timeoutMs = 30_000) => {
      const b: Barrier = { parts, held: new Map(), open: true };
      b.timer = setTimeout(() => {
        b.timedOut = true;
        release(b);
      }, timeoutMs);
      b.timer.unref();
      barriers.push(b);
    },
    barrierTimedOut: () => barriers.some((b) => b.timedOut === true),
    clear: () => {
      rules.length = 0;
      goAway.length = 0;
      for (const b of barriers.splice(0)) release(b);
    },
    seen,
    counts: () => {
      const c: Record<string, number> = {};
      for (const s of seen) c[`${s.method} ${s.kind}`] = (c[`${s.method} ${s.kind}`] ?? 0) + 1;
      return c;
    },
    injected: () => seen.filter((s) => s.injected).length,
    get gone() {
      return gone;
    },
    close: shutDown
  };
}
