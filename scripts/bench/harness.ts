// The benchmark's plumbing: where things are, the progress notes and the log, running a command
// without blocking (the cache stand-in answers from this process) and timing it, the docker
// builds the rows share, the figures' formats, and the table and details the rows fill in.
import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

export const ROOT = process.env.GDP_ROOT ?? process.cwd();
export const FIXTURE = join(ROOT, 'fixtures/go-app');
export const EVENT = join(ROOT, '__tests__/fixtures/events/release-published.json');
export const BASE_REGISTRY = process.env.GDP_BASE_REGISTRY ?? 'localhost:5150';
export const GO_IMAGE = `${BASE_REGISTRY}/gdp/golang:local`;
export const BASE_IMAGE = `${BASE_REGISTRY}/gdp/busybox:local`;
export const BASE_ARGS = ['--build-arg', `GO_IMAGE=${GO_IMAGE}`, '--build-arg', `BASE_IMAGE=${BASE_IMAGE}`];
/** The push registry of the test environment and its login. */
export const REGISTRY = process.env.GDP_REGISTRY ?? 'localhost:5151';
export const REGISTRY_USER = process.env.GDP_REGISTRY_USER ?? 'gdp';
export const REGISTRY_PASSWORD = process.env.GDP_REGISTRY_PASSWORD ?? 'gdp-test-password';
/** The classic image store (GitHub's ubuntu-latest): the engine of the rows that compare with Docker's recipe. */
export const CLASSIC = { DOCKER_HOST: process.env.GDP_CLASSIC_HOST ?? 'unix:///var/run/docker.sock' };
export const ROWS = new Set((process.env.BENCH_ROWS ?? 'a,b,c,d,e,f,g,h').split(',').map((s) => s.trim()));
export const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? '1') || 1);
export const T0 = Number(process.env.BENCH_T0_MS ?? Date.now());
export const work = mkdtempSync(join(tmpdir(), 'gdp-bench-'));
export const LOG = join(tmpdir(), `gdp-bench-${new Date(T0).toISOString().replace(/[:.]/g, '-')}.log`);
writeFileSync(LOG, '');

export interface Result {
  status: number;
  out: string;
  seconds: number;
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Written to stdin (a password for `docker login --password-stdin`). */
  input?: string;
}

export const note = (msg: string): void => {
  process.stderr.write(`[bench ${((Date.now() - T0) / 1000).toFixed(0).padStart(4)} s] ${msg}\n`);
  appendFileSync(LOG, `### ${msg}\n`);
};

/** Runs a command without blocking this process (the cache service answers from it), timed. */
export function run(cmd: string, args: string[], o: RunOptions = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    appendFileSync(LOG, `$ ${cmd} ${args.join(' ')}\n`);
    const t = performance.now();
    const child = spawn(cmd, args, { cwd: o.cwd ?? ROOT, env: o.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    const take = (d: Buffer): void => {
      out += d.toString();
      appendFileSync(LOG, d);
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('error', reject);
    // A child that exits before reading its input (most take none) is no failure of the bench.
    child.stdin.on('error', () => undefined);
    child.on('close', (code) => resolve({ status: code ?? -1, out, seconds: (performance.now() - t) / 1000 }));
    child.stdin.end(o.input ?? '');
  });
}

export async function must(cmd: string, args: string[], o: RunOptions = {}): Promise<Result> {
  const r = await run(cmd, args, o);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}:\n${r.out.split('\n').slice(-25).join('\n')}`);
  return r;
}

export const docker = (args: string[], cwd?: string): Promise<Result> => must('docker', args, { cwd });
export const prune = async (): Promise<void> => void (await docker(['builder', 'prune', '--all', '--force']));

/** docker buildx build on the default builder, loaded into the image store (as the action does). */
export const buildx = (platforms: string[], dockerfile: string, tag: string, cwd: string, extra: string[] = []): Promise<Result> =>
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

export const s = (x: number): string => `${x.toFixed(1)} s`;
export const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}×`;
export const bytes = (n: number): string => `${n.toLocaleString('en-US')} B`;
export const signed = (n: number): string => `${n >= 0 ? '+' : '−'}${Math.abs(n).toLocaleString('en-US')} B`;
export const median = (xs: number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? NaN) : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;
};

/** The rows of the result table (row, what, A, B, A/B or A−B) and the details printed after it. */
export const table: string[][] = [];
export const details: string[] = [];
export const row = (...cells: string[]): void => void table.push(cells);
