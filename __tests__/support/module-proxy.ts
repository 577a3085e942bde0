// A Go module proxy for the private-module tests: HTTPS on 127.0.0.1 (a random free port), the
// GOPROXY protocol (`<module>/@v/list`, `@v/<version>.info|.mod|.zip`, `<module>/@latest`) over
// the files of __tests__/fixtures/goproxy/ (the GOPROXY=file:// layout; one module,
// gdp.example/acme/greet v1.2.0, made by scripts/make-goproxy-fixture.sh), behind basic auth.
// A request without the right credentials gets 401 with `WWW-Authenticate: Basic`, as a company
// proxy (Athens, Artifactory, a Git host) answers; every request is recorded (path, authorized,
// status) so a test asserts that the build really fetched the module with the credentials the
// action gave. Its certificate (IP 127.0.0.1) is signed by the test CA (TEST_CA): Go sends .netrc
// credentials only over HTTPS, matched against the host WITH its port (`host` here), so a build
// trusts the CA through SSL_CERT_FILE and gets a `machine 127.0.0.1:PORT` netrc line (`netrc()`).
import { createServer, type Server } from 'node:https';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** The private module the proxy serves, and its one version. */
export const PRIVATE_MODULE = 'gdp.example/acme/greet';
export const PRIVATE_MODULE_VERSION = 'v1.2.0';
/** The fixtures folder (the default of `fixtures`): tls/ and goproxy/ in it. */
export const FIXTURES_DIR = fileURLToPath(new URL('../fixtures/', import.meta.url));
/** The CA that signed the proxy's certificate: what a build's SSL_CERT_FILE names. Test-only. */
export const TEST_CA = join(FIXTURES_DIR, 'tls', 'ca.pem');

export interface ModuleProxyOptions {
  /** The basic-auth credentials every request must carry. */
  username: string;
  password: string;
  /** Folder with tls/{server.pem,server.key} and goproxy/<escaped module>/@v/...; FIXTURES_DIR by default. */
  fixtures?: string;
}

/** One request the proxy answered. */
export interface ProxyRequest {
  method: string;
  /** The URL path, e.g. /gdp.example/acme/greet/@v/v1.2.0.zip. */
  path: string;
  /** Whether it carried the right credentials. */
  authorized: boolean;
  /** The user name it carried, right or wrong (never the password). */
  user?: string;
  status: number;
}

const TYPES: Record<string, string> = {
  '.info': 'application/json',
  '.mod': 'text/plain; charset=utf-8',
  '.zip': 'application/zip'
};

/**
 * A module path or version as Go escapes it in proxy URLs: upper-case letters are `!` + lower case
 * (golang.org/x/mod/module EscapePath), so an escaped path never has an upper-case letter.
 * Returns the path as written in go.mod, or undefined when `escaped` is not a valid escaped form.
 */
export function unescapeModulePath(escaped: string): string | undefined {
  if (/[A-Z]/.test(escaped) || /![^a-z]|!$/.test(escaped)) return undefined;
  return escaped.replace(/!([a-z])/g, (_, c: string) => c.toUpperCase());
}

export class ModuleProxy {
  /** Every request answered, in order. */
  readonly requests: ProxyRequest[] = [];
  private server?: Server;
  private port = 0;
  private readonly root: string;
  private readonly fixtures: string;

  constructor(private readonly options: ModuleProxyOptions) {
    this.fixtures = options.fixtures ?? FIXTURES_DIR;
    this.root = resolve(this.fixtures, 'goproxy');
  }

  /** https://127.0.0.1:PORT: the GOPROXY (and the action's go-private-proxy input). */
  get url(): string {
    return `https://${this.host}`;
  }

  /** 127.0.0.1:PORT: the netrc `machine` Go matches (host with port). */
  get host(): string {
    if (!this.port) throw new Error('module proxy: not started');
    return `127.0.0.1:${this.port}`;
  }

  /** The .netrc line that gets a build through: `machine 127.0.0.1:PORT login USER password PASS`. */
  netrc(username = this.options.username, password = this.options.password): string {
    return `machine ${this.host} login ${username} password ${password}\n`;
  }

  /** Paths fetched with the right credentials and answered 200. */
  served(): string[] {
    return this.requests.filter((r) => r.authorized && r.status === 200).map((r) => r.path);
  }

  async start(): Promise<string> {
    const tls = join(this.fixtures, 'tls');
    const server = createServer({ cert: readFileSync(join(tls, 'server.pem')), key: readFileSync(join(tls, 'server.key')) }, (req, res) =>
      this.handle(req, res)
    );
    await new Promise<void>((ok, fail) => {
      server.once('error', fail);
      server.listen(0, '127.0.0.1', () => ok());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    return this.url;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections(); // Go keeps its connections alive
    await new Promise<void>((ok) => server.close(() => ok()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'https://proxy').pathname);
    const user = basicUser(req.headers.authorization);
    const authorized = user?.name === this.options.username && user.password === this.options.password;
    const answer = (
      status: number,
      body: string | Buffer,
      type = 'text/plain; charset=utf-8',
      headers: Record<string, string> = {}
    ): void => {
      this.requests.push({ method: req.method ?? 'GET', path, authorized, user: user?.name, status });
      res.writeHead(status, { 'content-type': type, 'content-length': String(Buffer.byteLength(body)), ...headers });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (!authorized) {
      const why = user ? `wrong credentials for ${user.name}` : 'none given';
      const challenge = { 'www-authenticate': 'Basic realm="gdp-test-goproxy"' };
      return answer(401, `unauthorized: the gdp test module proxy needs basic auth (${why})\n`, undefined, challenge);
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return answer(405, 'method not allowed\n');
    const found = this.lookup(path);
    if (typeof found === 'string') return answer(404, `${found}\n`);
    answer(200, found.body, found.type);
  }

  /** The file for a GOPROXY request path, or why there is none (Go prints a 404's text/plain body). */
  private lookup(path: string): { body: Buffer; type: string } | string {
    const latest = /^\/(.+)\/@latest$/.exec(path);
    const file = /^\/(.+)\/@v\/(list|[^/]+\.(?:info|mod|zip))$/.exec(path);
    const escaped = latest?.[1] ?? file?.[1];
    const module = escaped && unescapeModulePath(escaped);
    if (!escaped || !module || escaped.split('/').some((s) => s === '' || s === '.' || s === '..')) return `not found: ${path}`;
    const dir = resolve(this.root, escaped, '@v');
    if (!dir.startsWith(this.root + sep) || !existsSync(join(dir, 'list'))) return `not found: module ${module}: not served by this proxy`;
    let name = file?.[2] ?? '';
    if (latest) {
      const versions = readFileSync(join(dir, 'list'), 'utf8').split('\n').filter(Boolean);
      const last = versions[versions.length - 1];
      if (!last) return `not found: module ${module}: no versions`;
      name = `${last}.info`;
    }
    const at = resolve(dir, name);
    if (!at.startsWith(dir + sep) || !existsSync(at) || !statSync(at).isFile())
      return `not found: ${module}@${name.replace(/\.[a-z]+$/, '')}: unknown revision`;
    return { body: readFileSync(at), type: TYPES[/\.[a-z]+$/.exec(name)?.[0] ?? ''] ?? 'text/plain; charset=utf-8' };
  }
}

function basicUser(header: string | undefined): { name: string; password: string } | undefined {
  const m = /^Basic\s+(\S+)$/i.exec(header ?? '');
  if (!m?.[1]) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? { name: decoded, password: '' } : { name: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
