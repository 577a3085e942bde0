// The tests' Go module proxy (support/module-proxy.ts) speaks the GOPROXY protocol over TLS the
// test CA signed, only with basic auth, and records what it answered; the module it serves is the
// one fixtures/go-private/go.sum names (same h1: hashes, computed without Go).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { ModuleProxy, PRIVATE_MODULE, PRIVATE_MODULE_VERSION, TEST_CA, FIXTURES_DIR, unescapeModulePath } from '../support/module-proxy.js';
import { goSumHashes } from '../support/go-sum.js';

const ca = readFileSync(TEST_CA);

function get(url: string, auth?: string): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }> {
  return new Promise((ok, fail) => {
    const req = request(url, { ca, ...(auth ? { auth } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => ok({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', fail);
    req.end();
  });
}

describe('module proxy', () => {
  const proxy = new ModuleProxy({ username: 'gdp-mod', password: 'gdp-mod-token' });
  let url = '';
  const mod = `${PRIVATE_MODULE}/@v`;
  beforeAll(async () => {
    url = await proxy.start();
  });
  afterAll(() => proxy.stop());

  it('listens on 127.0.0.1 over TLS the test CA signed, and gives the netrc line with the port', () => {
    expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(proxy.netrc()).toBe(`machine ${url.slice('https://'.length)} login gdp-mod password gdp-mod-token\n`);
  });

  it('answers 401 with a Basic challenge without credentials or with wrong ones, and records it', async () => {
    const none = await get(`${url}/${mod}/list`);
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toMatch(/^Basic realm=/);
    const wrong = await get(`${url}/${mod}/${PRIVATE_MODULE_VERSION}.zip`, 'gdp-mod:nope');
    expect(wrong.status).toBe(401);
    expect(proxy.requests.slice(-2)).toEqual([
      { method: 'GET', path: `/${mod}/list`, authorized: false, user: undefined, status: 401 },
      { method: 'GET', path: `/${mod}/${PRIVATE_MODULE_VERSION}.zip`, authorized: false, user: 'gdp-mod', status: 401 }
    ]);
  });

  it('serves list, info, mod, zip and @latest with the right credentials', async () => {
    const auth = 'gdp-mod:gdp-mod-token';
    expect((await get(`${url}/${mod}/list`, auth)).body.toString()).toBe(`${PRIVATE_MODULE_VERSION}\n`);
    const info = JSON.parse((await get(`${url}/${mod}/${PRIVATE_MODULE_VERSION}.info`, auth)).body.toString()) as { Version: string };
    expect(info.Version).toBe(PRIVATE_MODULE_VERSION);
    expect((await get(`${url}/${mod}/${PRIVATE_MODULE_VERSION}.mod`, auth)).body.toString()).toContain(`module ${PRIVATE_MODULE}`);
    const zip = await get(`${url}/${mod}/${PRIVATE_MODULE_VERSION}.zip`, auth);
    expect(zip.headers['content-type']).toBe('application/zip');
    const latest = JSON.parse((await get(`${url}/${PRIVATE_MODULE}/@latest`, auth)).body.toString()) as { Version: string };
    expect(latest.Version).toBe(PRIVATE_MODULE_VERSION);
    expect(proxy.served()).toEqual(
      expect.arrayContaining([
        `/${mod}/${PRIVATE_MODULE_VERSION}.zip`,
        `/${mod}/${PRIVATE_MODULE_VERSION}.mod`,
        `/${PRIVATE_MODULE}/@latest`
      ])
    );
  });

  it('answers 404 for other modules, versions and paths outside the module', async () => {
    const auth = 'gdp-mod:gdp-mod-token';
    expect((await get(`${url}/${mod}/v9.9.9.zip`, auth)).status).toBe(404);
    expect((await get(`${url}/gdp.example/acme/@v/list`, auth)).status).toBe(404);
    expect((await get(`${url}/${mod}/..%2f..%2f..%2f..%2ftls%2fserver.key`, auth)).status).toBe(404);
    expect((await get(`${url}/Gdp.example/acme/greet/@v/list`, auth)).status).toBe(404);
  });
});

describe('the private module fixture', () => {
  it('has the h1: hashes fixtures/go-private/go.sum records', () => {
    const dir = `${FIXTURES_DIR}goproxy/${PRIVATE_MODULE}/@v/${PRIVATE_MODULE_VERSION}`;
    const hashes = goSumHashes(readFileSync(`${dir}.zip`), readFileSync(`${dir}.mod`));
    const goSum = readFileSync(new URL('../../fixtures/go-private/go.sum', import.meta.url), 'utf8');
    expect(goSum).toBe(
      `${PRIVATE_MODULE} ${PRIVATE_MODULE_VERSION} ${hashes.zip}\n${PRIVATE_MODULE} ${PRIVATE_MODULE_VERSION}/go.mod ${hashes.goMod}\n`
    );
  });

  it('unescapes module paths as Go escapes them (!x for X)', () => {
    expect(unescapeModulePath('github.com/!azure/azure-sdk')).toBe('github.com/Azure/azure-sdk');
    expect(unescapeModulePath('github.com/Azure/x')).toBeUndefined();
    expect(unescapeModulePath('github.com/!!x')).toBeUndefined();
  });
});
