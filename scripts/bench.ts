// npm run bench: a benchmark (not a test) of what the action and the fixture's Dockerfiles cost on
// the real local engines. Every figure is measured in this run; ratios compare two measurements of
// this same run. Prints the machine, a Markdown table, the details (each action run's phase table)
// and the total wall time. Run through scripts/bench.sh, which sets up the environment and bundles
// this file with ncc. BENCH_ROWS=a,b,c,d,e,f,g,h runs a subset (c needs b; g runs with f);
// BENCH_ROUNDS=N repeats rows f, g (medians); BENCH_GOMAXPROCS sets GOMAXPROCS in the QEMU builds.
// The rows: bench/images.ts (a, d, e), bench/cache-rows.ts (b, c), bench/release-rows.ts (f, g, h).
import { rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { IMAGE } from './bench/action.js';
import { cacheServer, rowsBC } from './bench/cache-rows.js';
import { buildx, details, docker, FIXTURE, GO_IMAGE, BASE_IMAGE, LOG, must, note, ROWS, run, T0, table, work } from './bench/harness.js';
import { IMAGE_TAGS, rowA, rowD, rowE } from './bench/images.js';
import { rowH, rowsFG } from './bench/release-rows.js';

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
  if (ROWS.has('f') || ROWS.has('g')) await rowsFG();
  if (ROWS.has('h')) await rowH();

  const order = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
  table.sort((x, y) => order.indexOf(x[0] ?? '') - order.indexOf(y[0] ?? ''));
  const lines = ['| row | what | A | B | A/B or A−B |', '| --- | --- | --- | --- | --- |', ...table.map((r) => `| ${r.join(' | ')} |`)];
  process.stdout.write(`${lines.join('\n')}\n`);
  if (details.length) process.stdout.write(`\n${details.join('\n')}\n`);
  process.stdout.write(`\ntotal wall time: ${((Date.now() - T0) / 1000).toFixed(0)} s\n`);
}

/** Removes the images the bench tagged and its temporary files (the log stays). */
async function cleanup(): Promise<void> {
  for (const t of ['gdp-bench/warmup:1', ...IMAGE_TAGS, `${IMAGE}:v2.3.1`, `${IMAGE}:latest`]) await run('docker', ['image', 'rm', t]);
  rmSync(work, { recursive: true, force: true });
}

main()
  .catch(async (e: unknown) => {
    await cacheServer?.close();
    process.stderr.write(`bench failed: ${(e as Error).message}\n(log: ${LOG})\n`);
    process.exitCode = 1;
  })
  .finally(cleanup);
