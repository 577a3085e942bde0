// npm run bench: a benchmark (not a test) of what the action and the fixture's Dockerfiles cost on
// the real local engine. Every figure is measured in this run; ratios compare two measurements of
// this same run. Prints the machine, a Markdown table and the total wall time.
// Run through scripts/bench.sh, which sets up the environment and bundles this file with ncc.
// BENCH_ROWS=a,b,c,d,e runs a subset (c needs b). BENCH_GOMAXPROCS sets GOMAXPROCS in the QEMU builds.
import { spawn } from 'node:child_process';
import { cpSync, createReadStream, appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createGunzip } from 'node:zlib';
import { startCacheServer, type CacheServer } from '../__tests__/support/gha-cache-server.js';

const ROOT = process.env.GDP_ROOT ?? process.cwd();
const FIXTURE = join(ROOT, 'fixtures/go-app');
const EVENT = join(ROOT, '__tests__/fixtures/events/release-published.json');
const BASE_REGISTRY = process.env.GDP_BASE_REGISTRY ?? 'localhost:5150';
const GO_IMAGE = `${BASE_REGISTRY}/gdp/golang:local`;
const BASE_IMAGE = `${BASE_REGISTRY}/gdp/busybox:local`;
const BASE_ARGS = ['--build-arg', `GO_IMAGE=${GO_IMAGE}`, '--build-arg', `BASE_IMAGE=${BASE_IMAGE}`];
const ALL_PLATFORMS = [
  'linux/amd64',
  'linux/arm64',
  'linux/arm/v7',
  'linux/arm/v6',
  'linux/386',
  'linux/ppc64le',
  'linux/s390x',
  'linux/riscv64'
];
const ROWS = new Set((process.env.BENCH_ROWS ?? 'a,b,c,d,e').split(',').map((s) => s.trim()));
const T0 = Number(process.env.BENCH_T0_MS ?? Date.now());
const work = mkdtempSync(join(tmpdir(), 'gdp-bench-'));
const LOG = join(tmpdir(), `gdp-bench-${new Date(T0).toISOString().replace(/[:.]/g, '-')}.log`);
writeFileSync(LOG, '');

interface Result {
  status: number;
  out: string;
  seconds: number;
}

const note = (msg: string): void => {
  process.stderr.write(`[bench ${((Date.now() - T0) / 1000).toFixed(0).padStart(4)} s] ${msg}\n`);
  appendFileSync(LOG, `### ${msg}\n`);
};

/** Runs a command without blocking this process (the cache service answers from it), timed. */
function run(cmd: string, args: string[], o: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    appendFileSync(LOG, `$ ${cmd} ${args.join(' ')}\n`);
    const t = performance.now();
    const child = spawn(cmd, args, { cwd: o.cwd ?? ROOT, env: o.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const take = (d: Buffer): void => {
      out += d.toString();
      appendFileSync(LOG, d);
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('error', reject);
    child.on('close', (code) => resolve({ status: code ?? -1, out, seconds: (performance.now() - t) / 1000 }));
  });
}

async function must(cmd: string, args: string[], o: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Result> {
  const r = await run(cmd, args, o);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}:\n${r.out.split('\n').slice(-25).join('\n')}`);
  return r;
}

const docker = (args: string[], cwd?: string): Promise<Result> => must('docker', args, { cwd });
const prune = async (): Promise<void> => void (await docker(['builder', 'prune', '--all', '--force']));

/** docker buildx build on the default builder, loaded into the image store (as the action does). */
const buildx = (platforms: string[], dockerfile: string, tag: string, cwd: string, extra: string[] = []): Promise<Result> =>
  docker(
    ['buildx', 'build', '--builder=default', '--progress=plain', '--provenance=false', `--platform=${platforms.join(',')}`].concat([
      '--file',
      dockerfile,
      ...BASE_ARGS,
      ...extra,
      '--tag',
      tag,
      '--load',
      '.'
    ]),
    cwd
  );

const s = (x: number): string => `${x.toFixed(1)} s`;
const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}×`;
const bytes = (n: number): string => `${n.toLocaleString('en-US')} B`;
const signed = (n: number): string => `${n >= 0 ? '+' : '−'}${Math.abs(n).toLocaleString('en-US')} B`;

const table: string[][] = [];
const details: string[] = [];
const row = (...cells: string[]): void => void table.push(cells);

// ---------------------------------------------------------------- the action, run like a runner
interface ActionRun {
  status: number;
  out: string;
  summary: string;
  mainSeconds: number;
  postSeconds: number;
  buildSeconds?: number;
  goCache: string;
}

function parseFileCommands(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^([^<=]+)<<(.+)$/.exec(lines[i] ?? '');
    if (!m?.[1] || !m[2]) continue;
    const value: string[] = [];
    for (i++; i < lines.length && lines[i] !== m[2]; i++) value.push(lines[i] ?? '');
    out[m[1]] = value.join('\n');
  }
  return out;
}

/** dist/index.js as a runner starts it (main, then post with the saved state), as __tests__/e2e/harness.ts does. */
async function runAction(inputs: Record<string, string>, cwd: string, env: Record<string, string>): Promise<ActionRun> {
  const dir = mkdtempSync(join(work, 'run-'));
  const files = { output: 'output', state: 'state', summary: 'summary', env: 'env', path: 'path' };
  for (const f of Object.values(files)) writeFileSync(join(dir, f), '');
  const base: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/root',
    GITHUB_ACTIONS: 'true',
    GITHUB_EVENT_NAME: 'release',
    GITHUB_EVENT_PATH: EVENT,
    GITHUB_REF: 'refs/tags/v2.3.1',
    GITHUB_SHA: '3f786850e387550fdab836ed7e6dc881de23001b',
    GITHUB_REPOSITORY: 'example/tunnel',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_RUN_ID: String(Date.now()),
    GITHUB_WORKSPACE: cwd,
    GITHUB_OUTPUT: join(dir, files.output),
    GITHUB_STATE: join(dir, files.state),
    GITHUB_STEP_SUMMARY: join(dir, files.summary),
    GITHUB_ENV: join(dir, files.env),
    GITHUB_PATH: join(dir, files.path),
    RUNNER_TEMP: dir,
    ...env
  };
  for (const [k, v] of Object.entries(inputs)) base[`INPUT_${k.toUpperCase()}`] = v;
  const main = await run(process.execPath, [join(ROOT, 'dist/index.js')], { cwd, env: base });
  const state = parseFileCommands(readFileSync(join(dir, files.state), 'utf8'));
  const postEnv = { ...base };
  for (const [k, v] of Object.entries(state)) postEnv[`STATE_${k}`] = v;
  const post = await run(process.execPath, [join(ROOT, 'dist/index.js')], { cwd, env: postEnv });
  const summary = readFileSync(join(dir, files.summary), 'utf8');
  const cell = (field: string): string | undefined => new RegExp(`<t[dh]>${field}</t[dh]>\\s*<td>([^<]*)</td>`).exec(summary)?.[1]?.trim();
  const bt = /^([\d.]+) s$/.exec(cell('Build time') ?? '')?.[1];
  if (main.status !== 0) throw new Error(`the action failed (${main.status}):\n${main.out.split('\n').slice(-30).join('\n')}`);
  return {
    status: main.status,
    out: `${main.out}\n${post.out}`,
    summary,
    mainSeconds: main.seconds,
    postSeconds: post.seconds,
    buildSeconds: bt === undefined ? undefined : Number(bt),
    goCache: cell('Go cache') ?? '(no Go cache row)'
  };
}

const IMAGE = 'localhost:5151/bench/server';
const benchInputs = (extra: Record<string, string> = {}): Record<string, string> => ({
  images: `- name: ${IMAGE}\n  smoke: ["--version"]`,
  platforms: 'linux/amd64,linux/arm64',
  cache: 'gha',
  push: 'false',
  'build-args': `GO_IMAGE=${GO_IMAGE}\nBASE_IMAGE=${BASE_IMAGE}`,
  ...extra
});

/** Splits one printed command line the way sh would (the dry-run quotes with '...' and '\''). */
function shellWords(line: string): string[] {
  const words: string[] = [];
  let cur: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] ?? '';
    if (c === "'") {
      const end = line.indexOf("'", i + 1);
      cur = (cur ?? '') + line.slice(i + 1, end < 0 ? line.length : end);
      i = end < 0 ? line.length : end;
    } else if (c === '\\' && i + 1 < line.length) {
      cur = (cur ?? '') + line[++i];
    } else if (c === ' ') {
      if (cur !== undefined) words.push(cur);
      cur = undefined;
    } else cur = (cur ?? '') + c;
  }
  if (cur !== undefined) words.push(cur);
  return words;
}

// ---------------------------------------------------------------- rows
async function rowA(): Promise<void> {
  const qemuArgs = process.env.BENCH_GOMAXPROCS ? ['--build-arg', `GOMAXPROCS=${process.env.BENCH_GOMAXPROCS}`] : [];
  for (const platform of ['linux/arm64', 'linux/riscv64']) {
    const arch = platform.split('/')[1] ?? platform;
    await prune();
    note(`a: ${platform}, cross-compiled (Dockerfile), cold`);
    const cross = await buildx([platform], 'Dockerfile', `gdp-bench/cross:${arch}`, FIXTURE);
    await prune();
    note(`a: ${platform}, compiled under QEMU (Dockerfile.qemu), cold`);
    const qemu = await buildx([platform], 'Dockerfile.qemu', `gdp-bench/qemu:${arch}`, FIXTURE, qemuArgs);
    for (const img of [`gdp-bench/cross:${arch}`, `gdp-bench/qemu:${arch}`]) {
      const v = await docker(['run', '--rm', `--platform=${platform}`, '--pull=never', img, '--version']);
      if (!v.out.includes(platform)) throw new Error(`${img} does not run as ${platform}: ${v.out}`);
    }
    row(
      'a',
      `${platform} image, cold build: Go compiled under QEMU vs cross-compiled`,
      s(qemu.seconds),
      s(cross.seconds),
      ratio(qemu.seconds, cross.seconds)
    );
  }
}

async function rowE(): Promise<void> {
  await prune();
  note(`e: ${ALL_PLATFORMS.length} platforms, cold`);
  const all = await buildx(ALL_PLATFORMS, 'Dockerfile', 'gdp-bench/all:8', FIXTURE);
  await prune();
  note('e: linux/amd64 only, cold');
  const one = await buildx(['linux/amd64'], 'Dockerfile', 'gdp-bench/all:1', FIXTURE);
  row(
    'e',
    `cold cross-compiled build (Dockerfile): ${ALL_PLATFORMS.length} platforms vs linux/amd64 only`,
    s(all.seconds),
    s(one.seconds),
    ratio(all.seconds, one.seconds)
  );
}

/** Compressed (as stored and pushed) and uncompressed sizes of a single-platform image's layers. */
async function imageSizes(ref: string): Promise<{ inspect: number; compressed: number; uncompressed: number }> {
  const inspect = Number((await docker(['image', 'inspect', '--format', '{{.Size}}', ref])).out.trim());
  const dir = mkdtempSync(join(work, 'save-'));
  await docker(['save', '--output', join(dir, 'image.tar'), ref]);
  await must('tar', ['-x', '-C', dir, '-f', join(dir, 'image.tar')]);
  const blob = (digest: string): string => join(dir, 'blobs', ...digest.split(':'));
  type Desc = { digest: string; size: number; mediaType: string };
  let m = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as { manifests?: Desc[]; layers?: Desc[]; config?: Desc };
  while (m.manifests) m = JSON.parse(readFileSync(blob(m.manifests[0]?.digest ?? ''), 'utf8')) as typeof m;
  let compressed = m.config?.size ?? 0;
  let uncompressed = 0;
  for (const l of m.layers ?? []) {
    compressed += l.size;
    uncompressed += await new Promise<number>((resolve, reject) => {
      let n = 0;
      const src = createReadStream(blob(l.digest));
      const stream = /gzip/.test(l.mediaType) ? src.pipe(createGunzip()) : src;
      stream.on('data', (d: Buffer) => (n += d.length));
      stream.on('end', () => resolve(n));
      stream.on('error', reject);
    });
  }
  rmSync(dir, { recursive: true, force: true });
  return { inspect, compressed, uncompressed };
}

async function binarySize(ref: string, path: string): Promise<number> {
  const id = (await docker(['create', '--platform=linux/amd64', '--pull=never', ref])).out.trim().split('\n').pop() ?? '';
  const dest = join(work, `bin-${id.slice(0, 12)}`);
  try {
    await docker(['cp', `${id}:${path}`, dest]);
    return statSync(dest).size;
  } finally {
    await run('docker', ['rm', id]);
    rmSync(dest, { force: true });
  }
}

async function rowD(): Promise<void> {
  note('d: image size vs the Go binary in it (linux/amd64)');
  const cases = [
    { what: 'scratch image (Dockerfile.web, /panel)', dockerfile: 'Dockerfile.web', tag: 'gdp-bench/web:amd64', path: '/panel' },
    { what: 'busybox image (Dockerfile, server)', dockerfile: 'Dockerfile', tag: 'gdp-bench/server:amd64', path: '/usr/local/bin/server' }
  ];
  for (const c of cases) {
    await buildx(['linux/amd64'], c.dockerfile, c.tag, FIXTURE);
    const size = await imageSizes(c.tag);
    const bin = await binarySize(c.tag, c.path);
    row(
      'd',
      `${c.what}: image compressed (docker image inspect Size) vs binary`,
      bytes(size.inspect),
      bytes(bin),
      signed(size.inspect - bin)
    );
    row('d', `${c.what}: image layers uncompressed vs binary`, bytes(size.uncompressed), bytes(bin), signed(size.uncompressed - bin));
  }
}

let cacheServer: CacheServer | undefined;

async function rowsBC(): Promise<void> {
  const cache = (cacheServer = await startCacheServer());
  // The cache service as github.com runs it (v2): the layer cache and the Go cache go through it.
  const env = cache.env('v2');
  const ws = mkdtempSync(join(work, 'workspace-'));
  cpSync(FIXTURE, ws, { recursive: true });
  const mainGo = join(ws, 'cmd/server/main.go');
  const change = (n: number): void =>
    appendFileSync(
      mainGo,
      `\n// bench change ${n}\n\n// BenchChange${n} exists so that the package compiles again.\nfunc BenchChange${n}() int { return ${n} }\n`
    );

  // c (i): the dry run of the same inputs, which also lists the docker commands a real run starts.
  let dry: ActionRun | undefined;
  if (ROWS.has('c')) {
    note('c: dry run');
    dry = await runAction(benchInputs({ 'dry-run': 'true' }), ws, env);
  }

  const runs: { label: string; r: ActionRun }[] = [];
  await prune();
  note('b: run 1, cold (empty builder, empty cache service)');
  runs.push({ label: '1 cold', r: await runAction(benchInputs(), ws, env) });
  note('b: run 2, warm, nothing changed');
  runs.push({ label: '2 warm, no change', r: await runAction(benchInputs(), ws, env) });

  // c (ii): right after a fully cached run, the bare docker commands it runs, fully cached as well.
  let bare: { seconds: number; commands: number } | undefined;
  if (ROWS.has('c') && dry) {
    const lines = dry.out.split('\n');
    const start = lines.findIndex((l) => l.trim() === 'Commands:');
    const cmds: string[][] = [];
    for (let i = start + 1; start >= 0 && i < lines.length && (lines[i] ?? '').startsWith('  docker '); i++) {
      cmds.push(
        shellWords((lines[i] ?? '').trim().slice('docker '.length)).map((w, j) =>
          w.replace('<builder>', 'default').replace('<tmp>/', `${work}/bare-`).replace('<container>', `gdp-bench-${Date.now()}-${j}`)
        )
      );
    }
    if (cmds.length === 0) throw new Error(`no "Commands:" in the dry run's output:\n${dry.out}`);
    note(`c: the ${cmds.length} bare docker commands of the dry run`);
    let seconds = 0;
    for (const c of cmds) seconds += (await docker(c, ws)).seconds;
    bare = { seconds, commands: cmds.length };
  }

  change(1);
  await prune();
  note('b: run 3, one .go file changed, empty builder, Go cache restored');
  runs.push({ label: '3 changed, Go cache restored', r: await runAction(benchInputs(), ws, env) });
  change(2);
  await prune();
  note("b: run 4, one .go file changed, empty builder, go-cache: 'false'");
  runs.push({ label: "4 changed, go-cache: 'false'", r: await runAction(benchInputs({ 'go-cache': 'false' }), ws, env) });

  const bt = runs.map(({ r }) => r.buildSeconds ?? NaN);
  const wall = runs.map(({ r }) => r.mainSeconds);
  const [cold, warm, restored, fresh] = [0, 1, 2, 3];
  const pick = (a: number[], i: number): number => a[i] ?? NaN;
  if (ROWS.has('b')) {
    const compare = (what: string, a: number[], i: number, j: number): void =>
      row('b', what, s(pick(a, i)), s(pick(a, j)), ratio(pick(a, i), pick(a, j)));
    compare('warm rebuild, no change vs cold build: Build time (job summary)', bt, warm, cold);
    compare('warm rebuild, no change vs cold build: main step wall time', wall, warm, cold);
    compare('one .go file changed, empty builder: Go cache restored vs not: Build time', bt, restored, fresh);
    compare('one .go file changed, empty builder: Go cache restored vs not: main step wall time', wall, restored, fresh);
    details.push(
      '| run (b) | Build time | main wall | post wall | Go cache (job summary) |',
      '| --- | --- | --- | --- | --- |',
      ...runs.map(
        ({ label, r }) =>
          `| ${label} | ${r.buildSeconds === undefined ? '(none)' : s(r.buildSeconds)} | ${s(r.mainSeconds)} | ${s(r.postSeconds)} | ${r.goCache} |`
      )
    );
  }
  if (ROWS.has('c') && dry && bare) {
    const second = runs[1]?.r;
    row('c', "dry-run: 'true', main + post wall time", s(dry.mainSeconds + dry.postSeconds), '', '');
    if (second) {
      const action = second.mainSeconds + second.postSeconds;
      row(
        'c',
        `fully cached run (main + post) vs its ${bare.commands} bare docker commands: overhead`,
        s(action),
        s(bare.seconds),
        `+${(action - bare.seconds).toFixed(1)} s`
      );
      row(
        'c',
        `fully cached run, main step only vs the same bare commands: overhead`,
        s(second.mainSeconds),
        s(bare.seconds),
        `+${(second.mainSeconds - bare.seconds).toFixed(1)} s`
      );
    }
  }
  if (!runs[2]?.r.goCache.includes('restored')) details.push(`Note: run 3 did not report a restored Go cache ("${runs[2]?.r.goCache}").`);
  await cache.close();
  cacheServer = undefined;
}

async function main(): Promise<void> {
  const version = await docker([
    'version',
    '--format',
    'client {{.Client.Version}}, engine {{.Server.Version}} (API {{.Server.APIVersion}})'
  ]);
  const bx = await docker(['buildx', 'version']);
  const uname = await must('uname', ['-m']);
  const header = [
    `date: ${new Date().toISOString()}`,
    `uname -m: ${uname.out.trim()}, nproc: ${availableParallelism()}`,
    `docker: ${version.out.trim()}; ${bx.out.trim()}`,
    `go image: ${GO_IMAGE}, base image: ${BASE_IMAGE}; log: ${LOG}`
  ];
  process.stdout.write(`${header.join('\n')}\n\n`);

  const busy = await run('pgrep', ['-f', 'jest']);
  if (busy.status === 0) note('warning: jest is running on this machine too; its builds share the engine and skew these figures');
  // Untimed: reads the base images and the toolchain once, so that the first timed build does not
  // also pay for a cold page cache.
  note('warm-up build (not timed)');
  await buildx(['linux/amd64', 'linux/arm64'], 'Dockerfile', 'gdp-bench/warmup:1', FIXTURE);
  if (ROWS.has('a')) await rowA();
  if (ROWS.has('e')) await rowE();
  if (ROWS.has('d')) await rowD();
  if (ROWS.has('b') || ROWS.has('c')) await rowsBC();

  const order = ['a', 'b', 'c', 'd', 'e'];
  table.sort((x, y) => order.indexOf(x[0] ?? '') - order.indexOf(y[0] ?? ''));
  const lines = ['| row | what | A | B | A/B or A−B |', '| --- | --- | --- | --- | --- |', ...table.map((r) => `| ${r.join(' | ')} |`)];
  process.stdout.write(`${lines.join('\n')}\n`);
  if (details.length) process.stdout.write(`\n${details.join('\n')}\n`);
  process.stdout.write(`\ntotal wall time: ${((Date.now() - T0) / 1000).toFixed(0)} s\n`);
}

/** Removes the images the bench tagged and its temporary files (the log stays). */
async function cleanup(): Promise<void> {
  const tags = ['warmup:1', 'cross:arm64', 'qemu:arm64', 'cross:riscv64', 'qemu:riscv64', 'all:8', 'all:1', 'web:amd64', 'server:amd64'];
  for (const t of [...tags.map((t) => `gdp-bench/${t}`), `${IMAGE}:v2.3.1`, `${IMAGE}:latest`]) await run('docker', ['image', 'rm', t]);
  rmSync(work, { recursive: true, force: true });
}

main()
  .catch(async (e: unknown) => {
    await cacheServer?.close();
    process.stderr.write(`bench failed: ${(e as Error).message}\n(log: ${LOG})\n`);
    process.exitCode = 1;
  })
  .finally(cleanup);
