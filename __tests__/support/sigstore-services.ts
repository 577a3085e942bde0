// Fulcio, Rekor (v1 API) and a timestamp authority built from @sigstore/mock's handlers, each on
// its own loopback port, with the key material a trusted root needs. Four things sit in front of
// the mock handlers, each what the real service does and the mock does not:
// - Fulcio takes the OIDC token from the body (`credentials.oidcIdentityToken`, as sigstore-js
//   sends it) or from `Authorization: Bearer` (as sigstore-go, i.e. cosign, sends it; the mock
//   reads only the body), checks its signature (against the stand-in issuer's key), expiry and
//   audience `sigstore`, and names the certificate as Fulcio does for GitHub Actions tokens:
//   SAN URI `https://github.com/<job_workflow_ref>` (the mock would take `sub`); the mock then adds
//   the issuer (`iss`, OIDs 1.3.6.1.4.1.57264.1.1 and .8) and the other workflow extensions from
//   the token's claims, and an embedded SCT from its CT log; it answers 200 as Fulcio does (the
//   mock says 201, which cosign refuses);
// - Rekor names the entry it made in the ETag and Location headers, as Rekor does (cosign reads
//   the entry from the answer by its ETag, and crashes without it);
// - the TSA also takes an RFC 3161 request (`application/timestamp-query`, what cosign sends); the
//   mock only parses sigstore-js's JSON form;
// - every request is recorded (`calls`), so a test sees which services a signer used.
// The handlers are imported from their own files: the package's index imports nock, which patches
// node:http globally on import.
import { generateKeyPairSync } from 'node:crypto';
import { fulcioHandler, initializeCA, initializeCTLog, type CA, type CTLog } from '@sigstore/mock/dist/fulcio/index.js';
import { initializeTLog, rekorHandler } from '@sigstore/mock/dist/rekor/index.js';
import { initializeTSA, tsaHandler, type TSA } from '@sigstore/mock/dist/timestamp/index.js';
import { listen, type LoopbackServer, type Reply } from './loopback-server.js';

/** Where Fulcio puts a GitHub Actions identity: the server URL before `job_workflow_ref`. */
const GITHUB_SERVER_URL = 'https://github.com';
/** The claim the mock is told to take the SAN from; the Fulcio front puts the derived SAN there. */
const SAN_CLAIM = 'gdp_fulcio_san';
const FULCIO_PATH = '/api/v2/signingCert';
const REKOR_PATH = '/api/v1/log/entries';
const TSA_PATH = '/api/v1/timestamp';

export interface ServiceCall {
  service: 'fulcio' | 'rekor' | 'tsa';
  status: number;
  /** Fulcio: the SAN it certified; TSA: the request's form. */
  detail?: string;
}

export interface SigstoreServices {
  fulcio: LoopbackServer;
  rekor: LoopbackServer;
  tsa: LoopbackServer;
  /** The full timestamp URL (what a signing config lists). */
  tsaUrl: string;
  ca: CA;
  ctlog: CTLog;
  /** Rekor's public key, DER SPKI. */
  rekorPublicKey: Buffer;
  tsaAuthority: TSA;
  calls: ServiceCall[];
  close(): Promise<void>;
}

const p256 = () => generateKeyPairSync('ec', { namedCurve: 'prime256v1' });

/** A handler of @sigstore/mock's shape (body as a string) as a loopback reply. */
async function mockReply(
  fn: (body: string) => Promise<{ statusCode: number; response: string | ArrayBufferView; contentType?: string }>,
  body: string
): Promise<Reply> {
  const r = await fn(body);
  const out = typeof r.response === 'string' ? r.response : Buffer.from(r.response.buffer, r.response.byteOffset, r.response.byteLength);
  return { status: r.statusCode, body: out, contentType: r.contentType ?? 'text/plain' };
}

/**
 * The claims of a token Fulcio accepts, or why not (Fulcio answers 401 "There was an error
 * processing the identity token" for any of these).
 */
export type TokenCheck = (token: string) => Record<string, unknown>;

function fulcioSan(claims: Record<string, unknown>): string {
  if (typeof claims.job_workflow_ref !== 'string') throw new Error('token has no job_workflow_ref claim');
  return `${GITHUB_SERVER_URL}/${claims.job_workflow_ref}`;
}

/** An unsigned JWT with the claims (the mock decodes without checking signatures). */
function reencode(claims: Record<string, unknown>): string {
  const b = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  return `${b({ alg: 'none', typ: 'JWT' })}.${b(claims)}.c2ln`;
}

async function startFulcio(checkToken: TokenCheck, calls: ServiceCall[]): Promise<{ server: LoopbackServer; ca: CA; ctlog: CTLog }> {
  const ctlog = await initializeCTLog(p256());
  const ca = await initializeCA(p256(), ctlog);
  const handler = fulcioHandler(ca, { strict: true, subjectClaim: SAN_CLAIM });
  const server = await listen(async (req, body) => {
    if (req.method !== 'POST' || req.url !== FULCIO_PATH) return { status: 404, body: 'not found' };
    const request = JSON.parse(body.toString()) as { credentials?: { oidcIdentityToken?: string } };
    let claims: Record<string, unknown>;
    let san: string;
    try {
      claims = checkToken(request.credentials?.oidcIdentityToken ?? /^bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1] ?? '');
      const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
      if (!aud.includes('sigstore')) throw new Error(`audience ${JSON.stringify(claims.aud)} is not sigstore`);
      san = fulcioSan(claims);
    } catch (e) {
      calls.push({ service: 'fulcio', status: 401, detail: e instanceof Error ? e.message : String(e) });
      return {
        status: 401,
        contentType: 'application/json',
        body: JSON.stringify({ code: 16, message: 'There was an error processing the identity token' })
      };
    }
    const forwarded = { ...request, credentials: { oidcIdentityToken: reencode({ ...claims, [SAN_CLAIM]: san }) } };
    const reply = await mockReply(handler.fn, JSON.stringify(forwarded));
    // Fulcio answers 200 (sigstore-go, i.e. cosign, refuses anything else); the mock says 201.
    if (reply.status === 201) reply.status = 200;
    calls.push({ service: 'fulcio', status: reply.status, detail: san });
    return reply;
  });
  return { server, ca, ctlog };
}

async function startRekor(calls: ServiceCall[]): Promise<{ server: LoopbackServer; publicKey: Buffer }> {
  const keys = p256();
  const log: { handle?: ReturnType<typeof rekorHandler>['fn'] } = {};
  const server = await listen(async (req, body) => {
    if (req.method !== 'POST' || req.url !== REKOR_PATH || !log.handle) return { status: 404, body: 'not found' };
    const reply = await mockReply(log.handle, body.toString());
    if (reply.status === 201) {
      // Rekor names the new entry in ETag and Location; sigstore-go (cosign) looks the entry up by ETag.
      const [uuid = ''] = Object.keys(JSON.parse(String(reply.body)) as object);
      reply.headers = { ETag: uuid, Location: `${REKOR_PATH}/${uuid}` };
    }
    calls.push({ service: 'rekor', status: reply.status });
    return reply;
  });
  // The log's checkpoint names its host (with the port), known once the server listens.
  log.handle = rekorHandler(await initializeTLog(server.url, keys), { strict: true }).fn;
  return { server, publicKey: keys.publicKey.export({ format: 'der', type: 'spki' }) };
}

/** DER: the tag, and where the content of the element at `at` starts and ends. */
function element(der: Buffer, at: number): { tag: number; start: number; end: number } {
  const tag = der[at] ?? 0;
  let len = der[at + 1] ?? 0;
  let start = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + (der[start + i] ?? 0);
    start += n;
  }
  return { tag, start, end: start + len };
}

function children(der: Buffer, parent: { start: number; end: number }): { tag: number; start: number; end: number }[] {
  const out = [];
  for (let at = parent.start; at < parent.end;) {
    const e = element(der, at);
    out.push(e);
    at = e.end;
  }
  return out;
}

const HASH_OIDS: Record<string, string> = {
  '608648016503040201': 'sha256',
  '608648016503040202': 'sha384',
  '608648016503040203': 'sha512'
};

/** An RFC 3161 TimeStampReq as the JSON request the mock TSA reads. */
export function timestampQueryToJson(der: Buffer): { artifactHash: string; hashAlgorithm: string; nonce?: number; certificates?: boolean } {
  const [, imprint, ...rest] = children(der, element(der, 0));
  if (!imprint) throw new Error('not a TimeStampReq');
  const [algorithm, hashed] = children(der, imprint);
  const [oid] = algorithm ? children(der, algorithm) : [];
  if (!oid || !hashed) throw new Error('TimeStampReq without a message imprint');
  const hashAlgorithm = HASH_OIDS[der.subarray(oid.start, oid.end).toString('hex')];
  if (!hashAlgorithm) throw new Error('unsupported hash algorithm');
  const out: { artifactHash: string; hashAlgorithm: string; nonce?: number; certificates?: boolean } = {
    artifactHash: der.subarray(hashed.start, hashed.end).toString('base64'),
    hashAlgorithm
  };
  for (const e of rest) {
    if (e.tag === 0x02) {
      const n = der.subarray(e.start, e.end);
      if (n.length > 6) throw new Error('nonce too large for the mock TSA');
      out.nonce = n.readUIntBE(0, n.length);
    }
    if (e.tag === 0x01) out.certificates = der[e.start] !== 0;
  }
  return out;
}

async function startTsa(calls: ServiceCall[]): Promise<{ server: LoopbackServer; tsa: TSA }> {
  const tsa = await initializeTSA(p256());
  const handler = tsaHandler(tsa, { strict: true });
  const server = await listen(async (req, body) => {
    if (req.method !== 'POST' || req.url !== TSA_PATH) return { status: 404, body: 'not found' };
    const rfc3161 = (req.headers['content-type'] ?? '').startsWith('application/timestamp-query');
    const reply = await mockReply(handler.fn, rfc3161 ? JSON.stringify(timestampQueryToJson(body)) : body.toString());
    calls.push({ service: 'tsa', status: reply.status, detail: rfc3161 ? 'rfc3161' : 'json' });
    return reply;
  });
  return { server, tsa };
}

export async function startSigstoreServices(checkToken: TokenCheck): Promise<SigstoreServices> {
  const calls: ServiceCall[] = [];
  const fulcio = await startFulcio(checkToken, calls);
  const rekor = await startRekor(calls);
  const tsa = await startTsa(calls);
  return {
    fulcio: fulcio.server,
    rekor: rekor.server,
    tsa: tsa.server,
    tsaUrl: `${tsa.server.url}${TSA_PATH}`,
    ca: fulcio.ca,
    ctlog: fulcio.ctlog,
    rekorPublicKey: rekor.publicKey,
    tsaAuthority: tsa.tsa,
    calls,
    close: async () => {
      await Promise.all([fulcio.server.close(), rekor.server.close(), tsa.server.close()]);
    }
  };
}
