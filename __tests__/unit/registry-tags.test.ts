// A repository's tags over the registry API, as the floating tags' check reads them: where the API
// is, the credentials the Docker config holds (as the docker CLI finds them), a Bearer token
// service (as ghcr.io and Docker Hub answer) and Link pagination, against a registry on loopback.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { credentialSource, nextPage, parseChallenge, registryEndpoint } from '../../src/plan/registry-api.js';
import { registryTagLister } from '../../src/run/registry-tags.js';
import { FakeRunner } from '../support/fake-runner.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');

describe('the registry API, pure', () => {
  it.each([
    ['ghcr.io/org/app', { registry: 'ghcr.io', base: 'https://ghcr.io', name: 'org/app' }],
    ['org/app', { registry: 'docker.io', base: 'https://registry-1.docker.io', name: 'org/app' }],
    ['docker.io/busybox', { registry: 'docker.io', base: 'https://registry-1.docker.io', name: 'library/busybox' }],
    ['localhost:5151/e2e/app', { registry: 'localhost:5151', base: 'http://localhost:5151', name: 'e2e/app' }],
    ['127.0.0.1:41234/e2e/app', { registry: '127.0.0.1:41234', base: 'http://127.0.0.1:41234', name: 'e2e/app' }]
  ])('%s', (repo, want) => {
    expect(registryEndpoint(repo)).toEqual(want);
  });

  it('reads challenges and Link headers', () => {
    expect(parseChallenge('Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:o/a:pull"')).toEqual({
      scheme: 'bearer',
      params: { realm: 'https://ghcr.io/token', service: 'ghcr.io', scope: 'repository:o/a:pull' }
    });
    expect(parseChallenge('Basic realm="Registry Realm"')?.scheme).toBe('basic');
    expect(parseChallenge(null)).toBeUndefined();
    expect(nextPage('</v2/o/a/tags/list?last=v9&n=1000>; rel="next"', 'https://ghcr.io')).toBe(
      'https://ghcr.io/v2/o/a/tags/list?last=v9&n=1000'
    );
    expect(nextPage(null, 'https://ghcr.io')).toBeUndefined();
  });

  it('finds credentials as the docker CLI does: auths, then the helper named for the registry, then credsStore; "" is the file store', () => {
    const config = {
      auths: { 'ghcr.io': { auth: b64('bot:secret:with:colons') }, 'https://index.docker.io/v1/': { identitytoken: 'refresh' } },
      credHelpers: { '123.dkr.ecr.us-east-1.amazonaws.com': 'ecr-login', 'localhost:5151': '' },
      credsStore: 'desktop'
    };
    expect(credentialSource(config, 'ghcr.io')).toEqual({ kind: 'login', username: 'bot', secret: 'secret:with:colons' });
    expect(credentialSource(config, 'docker.io')).toEqual({ kind: 'identity-token', token: 'refresh' });
    expect(credentialSource(config, '123.dkr.ecr.us-east-1.amazonaws.com')).toEqual({
      kind: 'helper',
      helper: 'ecr-login',
      server: '123.dkr.ecr.us-east-1.amazonaws.com'
    });
    expect(credentialSource(config, 'localhost:5151')).toEqual({ kind: 'none' });
    expect(credentialSource(config, 'quay.io')).toEqual({ kind: 'helper', helper: 'desktop', server: 'quay.io' });
    expect(credentialSource({}, 'quay.io')).toEqual({ kind: 'none' });
  });
});

describe('listing tags against a registry with a token service', () => {
  let server: Server;
  let host = '';
  const seen: string[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      seen.push(`${req.method} ${url.pathname}${url.search} ${req.headers.authorization ?? '-'}`);
      if (url.pathname === '/token') {
        const ok =
          req.headers.authorization === `Basic ${b64('helper-user:helper-secret')}` &&
          /^repository:o\/\w+:pull$/.test(url.searchParams.get('scope') ?? '');
        res.writeHead(ok ? 200 : 401, { 'Content-Type': 'application/json' }).end(JSON.stringify(ok ? { token: 'T' } : {}));
        return;
      }
      if (req.headers.authorization !== 'Bearer T') {
        res.writeHead(401, { 'WWW-Authenticate': `Bearer realm="http://${host}/token",service="test"` }).end();
        return;
      }
      if (url.pathname === '/v2/o/none/tags/list') return void res.writeHead(404).end('{"errors":[{"code":"NAME_UNKNOWN"}]}');
      const last = url.searchParams.get('last');
      res
        .writeHead(200, {
          'Content-Type': 'application/json',
          ...(last ? {} : { Link: '</v2/o/app/tags/list?last=v3.0.9&n=1000>; rel="next"' })
        })
        .end(JSON.stringify({ name: 'o/app', tags: last ? ['v3.1.0', 'latest'] : ['3', 'v3.0.9'] }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('gets a pull token with the credential helper’s login and follows the pages', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gdp-tags-'));
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ credHelpers: { [host]: 'gdptest' } }));
    const runner = new FakeRunner((a) =>
      a[0] === 'docker-credential-gdptest' ? { stdout: JSON.stringify({ Username: 'helper-user', Secret: 'helper-secret' }) } : {}
    );
    const lister = registryTagLister(dir, runner, { attempts: 1, baseDelayMs: 0 });
    expect(await lister.tags(`${host}/o/app`)).toEqual(['3', 'v3.0.9', 'v3.1.0', 'latest']);
    expect(runner.calls).toContainEqual(['docker-credential-gdptest', 'get', host]);
    expect(seen.filter((s) => s.includes('/token')).length).toBeGreaterThan(0);
    expect(await lister.tags(`${host}/o/none`)).toEqual([]);
  });
});
