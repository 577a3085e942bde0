// An HTTPS proxy on loopback that answers for a few named hosts itself: a client that is told
// HTTPS_PROXY=<url> asks it to CONNECT host:443; for a host in the map, the proxy ends TLS with a
// certificate for that name (from a CA made here, which the client trusts through
// NODE_EXTRA_CA_CERTS=<caPath>) and passes the plain HTTP on to the loopback server that stands in
// for the host. Any other host is refused. This is how a test reaches code whose service URLs are
// built in (@actions/attest: fulcio.sigstore.dev, rekor.sigstore.dev, fulcio.githubapp.com,
// timestamp.githubapp.com, and the token issuer's JWKS), the way a TLS-inspecting corporate proxy
// is seen by a runner. Certificates are made with the openssl CLI.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { createSecureContext, TLSSocket } from 'node:tls';
import type { LoopbackServer } from './loopback-server.js';

export interface InterceptProxy {
  /** HTTPS_PROXY */
  url: string;
  /** PEM of the CA every intercepted host's certificate chains to: NODE_EXTRA_CA_CERTS. */
  caPath: string;
  /** host:port of every CONNECT, answered or refused, in order. */
  connects: string[];
  close(): Promise<void>;
}

/** A CA and one server certificate for these DNS names, as PEM files in `dir`. */
function makeCertificates(dir: string, names: string[]): { ca: string; cert: string; key: string } {
  const f = (n: string) => join(dir, n);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const run = (args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  run(['req', '-x509', ...ec, '-keyout', f('proxy-ca.key'), '-out', f('proxy-ca.pem'), '-days', '2', '-subj', '/CN=gdp intercept proxy test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']); // prettier-ignore
  run(['req', '-new', ...ec, '-keyout', f('proxy-leaf.key'), '-out', f('proxy-leaf.csr'), '-subj', '/CN=gdp-intercept']);
  writeFileSync(
    f('proxy-leaf.ext'),
    `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n`
  );
  run(['x509', '-req', '-in', f('proxy-leaf.csr'), '-CA', f('proxy-ca.pem'), '-CAkey', f('proxy-ca.key'), '-set_serial', '2', '-days', '2',
    '-extfile', f('proxy-leaf.ext'), '-out', f('proxy-leaf.pem')]); // prettier-ignore
  return { ca: f('proxy-ca.pem'), cert: f('proxy-leaf.pem'), key: f('proxy-leaf.key') };
}

export async function startInterceptProxy(hosts: Record<string, LoopbackServer>, dir: string): Promise<InterceptProxy> {
  const files = makeCertificates(dir, Object.keys(hosts));
  const context = createSecureContext({ cert: readFileSync(files.cert), key: readFileSync(files.key) });
  const connects: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((_req, res) => {
    res.writeHead(405, { 'Content-Type': 'text/plain' });
    res.end('this proxy only answers CONNECT\n');
  });
  server.on('connect', (req, client: Socket, head: Buffer) => {
    const target = req.url ?? '';
    connects.push(target);
    const [host, port] = target.split(':');
    const upstream = host && port === '443' ? hosts[host] : undefined;
    if (!upstream) {
      client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n');
      return;
    }
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length > 0) client.unshift(head);
    const tls = new TLSSocket(client, { isServer: true, secureContext: context, ALPNProtocols: ['http/1.1'] });
    const plain = connect(Number(new URL(upstream.url).port), '127.0.0.1');
    tls.pipe(plain).pipe(tls);
    const end = () => {
      tls.destroy();
      plain.destroy();
    };
    tls.on('error', end);
    plain.on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    caPath: files.ca,
    connects,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      })
  };
}
