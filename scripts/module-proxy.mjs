// Starts the tests' Go module proxy (__tests__/support/module-proxy.ts) from the command line, for
// trying a private-module build by hand: transpiles the TypeScript with the project's typescript
// into .tmp/, starts the proxy with the credentials given, prints what a build needs, logs every
// request, and stops on Ctrl-C / SIGTERM.
// Usage: node scripts/module-proxy.mjs [USER [PASSWORD]]   (default gdp-mod / gdp-mod-token)
// Prints, eval-able: export GDP_GOPROXY=https://127.0.0.1:PORT GDP_GOPROXY_NETRC='machine ...'
//   GDP_GOPROXY_CA=<path of the test CA>
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';

const root = fileURLToPath(new URL('..', import.meta.url));
const [username = 'gdp-mod', password = 'gdp-mod-token'] = process.argv.slice(2);
const source = readFileSync(`${root}__tests__/support/module-proxy.ts`, 'utf8');
const { outputText } = ts.transpileModule(source, {
  compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 }
});
mkdirSync(`${root}.tmp`, { recursive: true });
const out = `${root}.tmp/module-proxy.mjs`;
writeFileSync(out, outputText);
const { ModuleProxy } = await import(pathToFileURL(out).href);
const fixtures = `${root}__tests__/fixtures`;
const proxy = new ModuleProxy({ username, password, fixtures });
const url = await proxy.start();
const q = (s) => `'${s.replace(/'/g, "'\\''")}'`;
console.log(`export GDP_GOPROXY=${url} GDP_GOPROXY_NETRC=${q(proxy.netrc().trim())} GDP_GOPROXY_CA=${fixtures}/tls/ca.pem`);
let seen = 0;
const timer = setInterval(() => {
  for (const r of proxy.requests.slice(seen)) {
    console.error(
      `[module-proxy] ${r.method} ${r.path} ${r.status} ${r.authorized ? 'authorized' : `unauthorized (user: ${r.user ?? 'none'})`}`
    );
  }
  seen = proxy.requests.length;
}, 200);
const stop = async () => {
  clearInterval(timer);
  await proxy.stop();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
