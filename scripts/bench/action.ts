// The action as the benchmark runs it: dist/index.js started as a runner starts it (main, then
// post with the saved state, as __tests__/e2e/harness.ts does), with what the rows read back: the
// wall times of main and post, the job summary's Build time and Go cache cells, its phase table.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { phaseTable } from '../summary-text.js';
import { BASE_IMAGE, EVENT, GO_IMAGE, ROOT, run, s, work } from './harness.js';

export interface ActionRun {
  status: number;
  out: string;
  summary: string;
  mainSeconds: number;
  postSeconds: number;
  buildSeconds?: number;
  goCache: string;
  /** The phase tables of main and post: [phase, start, wall]. */
  phases: string[][];
  /** The builders main created (post removes them, unless the runner is GitHub-hosted). */
  builders: string[];
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

/** dist/index.js as a runner starts it: main, then post with the saved state (the default engine unless `env` names one). */
export async function runAction(inputs: Record<string, string>, cwd: string, env: Record<string, string>): Promise<ActionRun> {
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
  const saved = JSON.parse(state.gdpState ?? '{}') as { builders?: string[] };
  return {
    status: main.status,
    out: `${main.out}\n${post.out}`,
    summary,
    mainSeconds: main.seconds,
    postSeconds: post.seconds,
    buildSeconds: bt === undefined ? undefined : Number(bt),
    goCache: cell('Go cache') ?? '(no Go cache row)',
    phases: phaseTable(summary),
    builders: saved.builders ?? []
  };
}

/** The wall time of one phase of a run (its phase table), in seconds; NaN when it has no such row. */
export function phaseSeconds(r: ActionRun, phase: string): number {
  const wall = r.phases.find((p) => p[0] === phase)?.[2] ?? '';
  return /^[\d.]+ s$/.test(wall) ? Number.parseFloat(wall) : NaN;
}

/** A run's phase tables as Markdown, for the details after the result table. */
export function phaseDetails(label: string, r: ActionRun): string[] {
  return [
    '',
    `| ${label}: phase | start | wall |`,
    '| --- | --- | --- |',
    ...r.phases.map((p) => `| ${p.join(' | ')} |`),
    `| (main step, post step) | | ${s(r.mainSeconds)}, ${s(r.postSeconds)} |`
  ];
}

export const IMAGE = 'localhost:5151/bench/server';
export const benchInputs = (extra: Record<string, string> = {}): Record<string, string> => ({
  images: `- name: ${IMAGE}\n  smoke: ["--version"]`,
  platforms: 'linux/amd64,linux/arm64',
  cache: 'gha',
  push: 'false',
  'build-args': `GO_IMAGE=${GO_IMAGE}\nBASE_IMAGE=${BASE_IMAGE}`,
  ...extra
});

/** Splits one printed command line the way sh would (the dry-run quotes with '...' and '\''). */
export function shellWords(line: string): string[] {
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
