// The fault proxy's own behaviour (holds, a registry without the referrers API, dropped signature
// uploads) against a stand-in upstream that records what reached it: no registry, no engine.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';

interface Reached {
  method: string;
  path: string;
  body: string;
}

/** An upstream that answers 201 to PUTs and 200 to the rest, and records what reached it. */
async function startUpstream(): Promise<{ server: Server; port: number; reached: Reached[] }> {
  const reached: Reached[] = [];
  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      reached.push({ method: req.method ?? '', path: req.url ?? '', body: Buffer.concat(parts).toString() });
      res.writeHead(req.method === 'PUT' ? 201 : 200, { 'Content-Type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, reached };
}

const HEX = 'a'.repeat(64);
const index = (version: string): string =>
  JSON.stringify({ schemaVersion: 2, annotations: { 'org.opencontainers.image.version': version } });

describe('fault proxy', () => {
  let upstream: Awaited<ReturnType<typeof startUpstream>>;
  let proxy: FaultProxy;
  const put = (path: string, body = '{}'): Promise<Response> =>
    fetch(`http://${proxy.address}${path}`, {
      method: 'PUT',
      body,
      headers: { 'Content-Type': 'application/vnd.oci.image.index.v1+json' }
    });
  const reachedPaths = (): string[] => upstream.reached.map((r) => `${r.method} ${r.path}`);

  beforeEach(async () => {
    upstream = await startUpstream();
    proxy = await startFaultProxy({ host: '127.0.0.1', port: upstream.port });
  });
  afterEach(async () => {
    await proxy.close();
    await new Promise<void>((resolve) => upstream.server.close(() => resolve()));
  });

  it('holds the PUT of latest until released; other requests pass meanwhile', async () => {
    const hold = proxy.hold({ method: 'PUT', path: /\/manifests\/latest$/ });
    const a = put('/v2/r/manifests/latest', index('3.0.9'));
    const held = await hold.arrived;
    expect(held.path).toBe('/v2/r/manifests/latest');
    expect(hold.holding).toBe(true);
    expect((await put('/v2/r/manifests/v3.1.0')).status).toBe(201);
    expect(reachedPaths()).toEqual(['PUT /v2/r/manifests/v3.1.0']);
    expect((await hold.release()).status).toBe(201);
    expect((await a).status).toBe(201);
    expect(upstream.reached.at(-1)).toEqual({ method: 'PUT', path: '/v2/r/manifests/latest', body: index('3.0.9') });
    expect(proxy.seen.find((s) => s.path === '/v2/r/manifests/latest')?.held).toBe(true);
  });

  it('holds only the nth matching request, or the one whose body matches', async () => {
    const second = proxy.hold({ method: 'PUT', path: /\/manifests\/latest$/, nth: 2 });
    expect((await put('/v2/r/manifests/latest', index('1'))).status).toBe(201);
    expect(second.holding).toBe(false);
    const p2 = put('/v2/r/manifests/latest', index('2'));
    await second.arrived;
    expect(second.holding).toBe(true);
    void second.release();
    await p2;

    const old = proxy.hold({ method: 'PUT', path: /\/manifests\/edge$/, body: /"3\.0\.9"/ });
    expect((await put('/v2/r/manifests/edge', index('3.1.0'))).status).toBe(201);
    const pOld = put('/v2/r/manifests/edge', index('3.0.9'));
    expect((await old.arrived).path).toBe('/v2/r/manifests/edge');
    expect(upstream.reached.at(-1)?.body).toBe(index('3.1.0'));
    await old.release();
    expect((await pOld).status).toBe(201);
    expect(upstream.reached.at(-1)?.body).toBe(index('3.0.9'));
  });

  it('lets a request pass that was released before it came, goes by itself after timeoutMs, and clear() lets holds go', async () => {
    const early = proxy.hold({ method: 'PUT', path: /\/manifests\/a$/ });
    const answered = early.release();
    expect((await put('/v2/r/manifests/a')).status).toBe(201);
    expect((await answered).status).toBe(201);

    const timed = proxy.hold({ method: 'PUT', path: /\/manifests\/b$/, timeoutMs: 200 });
    expect((await put('/v2/r/manifests/b')).status).toBe(201);
    expect(timed.timedOut).toBe(true);

    const cleared = proxy.hold({ method: 'PUT', path: /\/manifests\/c$/ });
    const c = put('/v2/r/manifests/c');
    await cleared.arrived;
    proxy.clear();
    expect((await c).status).toBe(201);
  });

  it('answers the referrers API as distribution 2.8 does (404 text), and forwards the rest', async () => {
    proxy.noReferrers();
    const get = await fetch(`http://${proxy.address}/v2/r/referrers/sha256:${HEX}?artifactType=x`);
    expect(get.status).toBe(404);
    expect(get.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await get.text()).toBe('404 page not found\n');
    expect((await fetch(`http://${proxy.address}/v2/r/referrers/sha256:${HEX}`, { method: 'HEAD' })).status).toBe(404);
    expect((await fetch(`http://${proxy.address}/v2/r/manifests/sha256-${HEX}`)).status).toBe(200);
    expect(reachedPaths()).toEqual([`GET /v2/r/manifests/sha256-${HEX}`]);
    expect(proxy.seen.map((s) => s.kind)).toEqual(['referrers', 'referrers', 'manifest']);
  });

  it('drops signature uploads: cosign tags and manifests with a subject get 201 and the digest, the registry gets nothing', async () => {
    proxy.dropSignatures();
    const sig = JSON.stringify({ schemaVersion: 2, layers: [] });
    const referrer = JSON.stringify({ schemaVersion: 2, subject: { digest: `sha256:${HEX}`, size: 1 } });
    // The digests of these two bodies (sha256 of the bytes), as a registry would answer.
    const SIG_DIGEST = 'sha256:6ece6defe7067e1c5455a7720c1189ad30f7f8efe78587bd7c06e64a80fe7770';
    const REFERRER_DIGEST = 'sha256:d2261ad5be928ada017b85466fc8f0997835726ffd99f2f8d73da88b168de3fe';

    const r1 = await put(`/v2/r/manifests/sha256-${HEX}.sig`, sig);
    expect(r1.status).toBe(201);
    expect(r1.headers.get('docker-content-digest')).toBe(SIG_DIGEST);
    expect(r1.headers.get('location')).toBe(`/v2/r/manifests/${SIG_DIGEST}`);
    expect((await put(`/v2/r/manifests/${REFERRER_DIGEST}`, referrer)).status).toBe(201);
    expect((await put(`/v2/r/manifests/sha256-${HEX}`, index('fallback'))).status).toBe(201);
    // Not signatures: forwarded.
    expect((await put('/v2/r/manifests/v1.0.0', index('1.0.0'))).status).toBe(201);
    expect((await put(`/v2/r/manifests/${SIG_DIGEST}`, sig)).status).toBe(201);

    expect(reachedPaths()).toEqual(['PUT /v2/r/manifests/v1.0.0', `PUT /v2/r/manifests/${SIG_DIGEST}`]);
    expect(proxy.dropped().map((d) => [d.reference, d.reason])).toEqual([
      [`sha256-${HEX}.sig`, 'tag'],
      [REFERRER_DIGEST, 'subject'],
      [`sha256-${HEX}`, 'tag']
    ]);
    expect(proxy.seen.filter((s) => s.dropped).length).toBe(3);
  });
});
