// Rows b, c: the action with the gha cache (the local cache stand-in, protocol v2), run like a
// runner: a cold run, a warm one, a changed .go file with the Go cache restored and without (b);
// the dry run, and a fully cached run vs the bare docker commands it starts (c).
import { appendFileSync, cpSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { startCacheServer, type CacheServer } from '../../__tests__/support/gha-cache-server.js';
import { benchInputs, runAction, shellWords, type ActionRun } from './action.js';
import { details, docker, FIXTURE, note, prune, ratio, row, ROWS, s, work } from './harness.js';

/** The cache stand-in while rows b, c run (closed by the bench when it fails). */
export let cacheServer: CacheServer | undefined;

export async function rowsBC(): Promise<void> {
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
