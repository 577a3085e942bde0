// A small HTTP reverse proxy in front of the local test registry, for fault injection: answer the
// next N (or every) matching request with 429 (Retry-After: 1) or 503 instead of forwarding it,
// or "go away" (close the listener and every open socket) once a matching request has been
// answered, so the registry becomes unreachable in the middle of a run; or hold requests at a
// barrier so that two clients really talk to the registry at once; or hold one chosen request
// (e.g. run A's PUT of `latest`) until the test releases it; or act as a registry without the
// referrers API; or drop signature uploads (answer 201 Created, store nothing). It counts what it saw.
// Listens on 127.0.0.1 (an ephemeral port): Docker treats 127.0.0.0/8 registries as insecure,
// so the engine and buildx talk plain HTTP to it.
import { Agent, createServer, request, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import {
  COSIGN_TAG,
  NO_ROUTE,
  isReferrersRequest,
  manifestCreatedHeaders,
  manifestDigest,
  manifestTarget,
  signatureUpload,
  type SignatureReason
} from './registry-answers.js';

export { COSIGN_TAG } from './registry-answers.js';

/** What a request is, in registry API terms. */
export type RequestKind = 'ping' | 'manifest' | 'upload' | 'blob' | 'tags' | 'referrers' | 'other';

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
  /** It was held by hold() until released (then forwarded). */
  held?: boolean;
  /** A signature upload answered 201 Created by the proxy and not forwarded (dropSignatures()). */
  dropped?: boolean;
}

/** What hold() holds: a Match, and which of the matching requests. */
export interface HoldMatch extends Match {
  /** Hold the nth matching request (1-based), let the others pass. Default 1: the first. */
  nth?: number;
  /**
   * Tested against the request body too (the proxy reads it in full first: meant for manifests), e.g.
   * /"org\.opencontainers\.image\.version":"3\.0\.9"/ to hold one run's write and not another's.
   */
  body?: RegExp;
  /** Let the request go by itself after this long (then timedOut is true). Default: never. */
  timeoutMs?: number;
}

/** One request held by hold(). */
export interface Hold {
  /** Resolves when the request is at the proxy (and held, unless release() came first). The registry does not have it yet. */
  readonly arrived: Promise<SeenRequest>;
  /** Forward the held request (before it arrives: let it pass when it comes). Resolves once its client has the registry's answer. */
  release(): Promise<SeenRequest>;
  /** True while the proxy holds the request. */
  readonly holding: boolean;
  /** True when timeoutMs let the request go, not release(). */
  readonly timedOut: boolean;
}

/** Which uploads dropSignatures() drops. */
export interface DropSignatures {
  /** Manifest PUTs by tag whose tag matches. Default: cosign's tags, COSIGN_TAG (sha256-<hex>, .sig, .att, .sbom). */
  tag?: RegExp;
  /** Also manifest PUTs whose body has a `subject` (OCI referrers: cosign 3's bundles). Default true. */
  subject?: boolean;
}

/** An upload the proxy answered 201 Created and did not forward. */
export interface DroppedUpload {
  repository: string;
  /** The tag or digest the client PUT to. */
  reference: string;
  /** The digest the proxy answered (sha256 of the body). */
  digest: string;
  reason: SignatureReason;
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
  /**
   * Hold the request matching `match` (its nth one) at the proxy, not forwarded, until release():
   * e.g. hold({ method: 'PUT', path: /\/manifests\/latest$/ }). Several holds can wait at once.
   */
  hold(match: HoldMatch): Hold;
  /** Act as a registry without the referrers API: GET/HEAD /v2/<name>/referrers/<digest> get distribution 2.8's 404. */
  noReferrers(): void;
  /** Answer signature uploads 201 Created (Location, Docker-Content-Digest) without forwarding them. */
  dropSignatures(which?: DropSignatures): void;
  /** The uploads dropSignatures() dropped, in order. */
  dropped(): DroppedUpload[];
  /** Drop every rule not yet used up (holds are released, drops and noReferrers end). */
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
  if (/^\/v2\/.+\/referrers\/[^/]+$/.test(p)) return 'referrers';
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

interface HoldRule {
  match: HoldMatch;
  /** Matching requests seen so far. */
  seen: number;
  state: 'waiting' | 'holding' | 'done';
  /** release() came before the request did. */
  released: boolean;
  timedOut: boolean;
  timer?: NodeJS.Timeout;
  /** Forwards the held request. */
  go?: () => void;
  arrived: (s: SeenRequest) => void;
  answered: (s: SeenRequest) => void;
  answer: Promise<SeenRequest>;
}

function matches(m: Match, req: IncomingMessage): boolean {
  return (
    (!m.method || m.method.toUpperCase() === req.method) &&
    (!m.path || m.path.test(req.url ?? '')) &&
    (!m.contentType || m.contentType.test(req.headers['content-type'] ?? ''))
  );
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of req) parts.push(c as Buffer);
  return Buffer.concat(parts);
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
  const holds: HoldRule[] = [];
  const dropped: DroppedUpload[] = [];
  let drop: Required<DropSignatures> | undefined;
  let withoutReferrers = false;
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

    if (withoutReferrers && isReferrersRequest(entry.method, path)) {
      entry.status = NO_ROUTE.status;
      entry.injected = true;
      req.resume();
      res.writeHead(NO_ROUTE.status, { ...NO_ROUTE.headers, 'Content-Length': String(Buffer.byteLength(NO_ROUTE.body)) });
      res.end(req.method === 'HEAD' ? undefined : NO_ROUTE.body);
      return;
    }

    // A manifest PUT is read in full first when a drop or a hold looks at its body.
    const needsBody =
      req.method === 'PUT' &&
      entry.kind === 'manifest' &&
      (drop !== undefined || holds.some((h) => h.state === 'waiting' && h.match.body && matches(h.match, req)));
    if (!needsBody) return route(req, res, entry);
    readBody(req).then(
      (body) => route(req, res, entry, body),
      () => res.destroy()
    );
  };

  /** After the status faults: drops, holds, barriers, or forward. `body` when it was read already. */
  const route = (req: IncomingMessage, res: ServerResponse, entry: SeenRequest, body?: Buffer): void => {
    const target = manifestTarget(entry.path);
    if (drop && body && target) {
      const reason = signatureUpload(target, body, drop.tag);
      if (reason && (reason === 'tag' || drop.subject)) {
        const digest = manifestDigest(body);
        dropped.push({ repository: target.repository, reference: target.reference, digest, reason });
        entry.status = 201;
        entry.injected = true;
        entry.dropped = true;
        res.writeHead(201, manifestCreatedHeaders(target, digest));
        res.end();
        return;
      }
    }

    for (const h of holds) {
      if (h.state !== 'waiting' || !matches(h.match, req)) continue;
      if (h.match.body && !(body && h.match.body.test(body.toString('utf8')))) continue;
      if (++h.seen !== (h.match.nth ?? 1)) continue;
      res.on('close', () => h.answered(entry));
      h.arrived(entry);
      if (h.released) {
        h.state = 'done';
        break;
      }
      h.state = 'holding';
      entry.held = true;
      h.go = () => forward(req, res, entry, body);
      return;
    }

    for (const b of barriers) {
      const i = b.open ? b.parts.findIndex((m, k) => !b.held.has(k) && matches(m, req)) : -1;
      if (i < 0) continue;
      b.held.set(i, () => forward(req, res, entry, body));
      if (b.held.size === b.parts.length) release(b);
      return;
    }
    forward(req, res, entry, body);
  };

  const letGo = (h: HoldRule): void => {
    clearTimeout(h.timer);
    h.released = true;
    if (h.state !== 'holding') return;
    h.state = 'done';
    h.go?.();
  };

  const hold = (match: HoldMatch): Hold => {
    let arrived!: (s: SeenRequest) => void;
    let answered!: (s: SeenRequest) => void;
    const arrival = new Promise<SeenRequest>((resolve) => (arrived = resolve));
    const answer = new Promise<SeenRequest>((resolve) => (answered = resolve));
    const h: HoldRule = { match, seen: 0, state: 'waiting', released: false, timedOut: false, arrived, answered, answer };
    if (match.timeoutMs !== undefined) {
      h.timer = setTimeout(() => {
        h.timedOut = true;
        letGo(h);
      }, match.timeoutMs);
      h.timer.unref();
    }
    holds.push(h);
    return {
      arrived: arrival,
      release: () => {
        letGo(h);
        return h.answer;
      },
      get holding() {
        return h.state === 'holding';
      },
      get timedOut() {
        return h.timedOut;
      }
    };
  };

  const release = (b: Barrier): void => {
    clearTimeout(b.timer);
    b.open = false;
    for (const go of b.held.values()) go();
    b.held.clear();
  };

  const forward = (req: IncomingMessage, res: ServerResponse, entry: SeenRequest, body?: Buffer): void => {
    const path = req.url ?? '/';
    const headers = forwardHeaders(req.headers);
    if (body) headers['content-length'] = String(body.length);
    const up = request({ host: upstream.host, port: upstream.port, method: req.method, path, headers, agent }, (ur) => {
      entry.status = ur.statusCode ?? 0;
      res.writeHead(ur.statusCode ?? 502, forwardHeaders(ur.headers));
      ur.pipe(res);
    });
    up.on('error', (e) => {
      entry.status = 502;
      if (!res.headersSent) res.writeHead(502, { 'Content-Type': 'text/plain' });
      res.end(`test proxy: upstream error: ${e.message}`);
    });
    if (body) up.end(body);
    else req.pipe(up);
  };

  const server = createServer(handle);
  server.keepAliveTimeout = 30_000;
  // A held request may wait longer than Node's default 300 s for "the whole request".
  server.requestTimeout = 0;
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
    hold,
    noReferrers: () => void (withoutReferrers = true),
    dropSignatures: (which = {}) => void (drop = { tag: which.tag ?? COSIGN_TAG, subject: which.subject ?? true }),
    dropped: () => [...dropped],
    clear: () => {
      rules.length = 0;
      goAway.length = 0;
      for (const b of barriers.splice(0)) release(b);
      for (const h of holds.splice(0)) letGo(h);
      drop = undefined;
      withoutReferrers = false;
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
