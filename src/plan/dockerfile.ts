// Dockerfile analysis, pure (the caller passes the text; no docker, no I/O): analyseDockerfile
// reads the instructions (dockerfile-parser.ts) and resolves stages (FROM image AS name,
// ARG-parameterised FROM, FROM <stage>, COPY --from=<name|index>, RUN --mount=...,from=), the
// stages the target needs, their cache and secret mounts and ARGs, and where multi-platform Go
// builds go wrong (findings.ts says how each finding reads).

import { parseDockerfile, unquote } from './dockerfile-parser.js';
import { FINDINGS, type FindingCode, type FindingFacts } from './findings.js';
import type { GoCacheMount } from './go-cache.js';

export type { FindingCode } from './findings.js';

/** A cache mount as the Go cache needs it (id defaults to the target), and where it is. */
export interface CacheMount extends GoCacheMount {
  line: number;
}
export interface DockerfileStage {
  index: number;
  name?: string;
  /** raw image expression */
  from: string;
  /** the image expression with ARGs (build args, then defaults) substituted */
  image: string;
  fromLine: number;
  /** value of FROM --platform= as written */
  platformFlag?: string;
  /** --platform=$BUILDPLATFORM or ${BUILDPLATFORM} (also through a global ARG) */
  buildPlatform: boolean;
  /** index of the stage it is FROM, when FROM <stage name> */
  base?: number;
  runs: { line: number; command: string; mounts: CacheMount[]; secrets: string[] }[];
  /** ARGs declared in the stage, with their lines. */
  args: { name: string; line: number }[];
  /** stage indexes used by COPY --from / RUN --mount=from= */
  copiesFrom: number[];
  /** FROM scratch or a distroless image (gcr.io/distroless/*, cgr.dev/chainguard/static), or a stage FROM one */
  scratchLike: boolean;
}
export interface Finding {
  line: number;
  severity: 'warning' | 'notice';
  code: FindingCode;
  message: string;
}
export interface DockerfileReport {
  stages: DockerfileStage[];
  /** index of the stage built (the --target or the last) */
  target: number;
  /** stages the target depends on, incl. itself, ascending */
  used: number[];
  findings: Finding[];
  /** of used stages, de-duplicated by id */
  cacheMounts: CacheMount[];
  /** some used stage compiles Go without --platform=$BUILDPLATFORM */
  goCompileUnderEmulation: boolean;
}
export interface AnalyseOptions {
  target?: string;
  buildArgs?: Record<string, string>;
  /** the platforms built; enables the GOARM check when one is linux/arm[/vN] */
  platforms?: string[];
}

/** The platform ARGs BuildKit provides in the global scope; their values depend on the build, so they stay as `$NAME`. */
const PLATFORM_ARGS = new Set('BUILDPLATFORM BUILDOS BUILDARCH BUILDVARIANT TARGETPLATFORM TARGETOS TARGETARCH TARGETVARIANT'.split(' '));

/** $VAR, ${VAR}, ${VAR:-w}, ${VAR-w}, ${VAR:+w}, ${VAR+w}; unknown variables are empty, as in FROM. */
function expand(s: string, vars: Map<string, string>): string {
  return s.replace(
    /\$(?:\{([A-Za-z_]\w*)(?:(:?[-+])([^}]*))?\}|([A-Za-z_]\w*))/g,
    (_m, braced: string | undefined, op: string | undefined, word: string | undefined, bare: string | undefined) => {
      const name = braced ?? bare ?? '';
      if (PLATFORM_ARGS.has(name)) return `$${name}`;
      const v = vars.get(name);
      const alt = (): string => expand(word ?? '', vars);
      if (op === ':-') return v ? v : alt();
      if (op === '-') return v ?? alt();
      if (op === ':+') return v ? alt() : '';
      if (op === '+') return v !== undefined ? alt() : '';
      return v ?? '';
    }
  );
}

/** Whitespace-separated words, quotes kept together. */
const words = (s: string): string[] => s.match(/(?:"[^"]*"|'[^']*'|\S)+/g) ?? [];

function parseMount(value: string): Record<string, string> {
  const m: Record<string, string> = {};
  for (const field of value.match(/(?:"[^"]*"|[^,])+/g) ?? []) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).trim().toLowerCase();
    const alias: Record<string, string> = { dst: 'target', destination: 'target', src: 'source' };
    m[alias[key] ?? key] = eq < 0 ? 'true' : unquote(field.slice(eq + 1).trim());
  }
  return m;
}

function isScratchLike(image: string): boolean {
  const i = image.toLowerCase();
  return i === 'scratch' || i.startsWith('gcr.io/distroless/') || /^cgr\.dev\/chainguard\/static(?:[:@]|$)/.test(i);
}

const label = (s: DockerfileStage): string => (s.name ? `stage "${s.name}"` : `stage ${s.index}`);

export const GO_BUILD = /(?:^|[\s;&|(`'"/])(xx-)?go\s+(?:build|install)\b/;
const GOOS_SET = /\bGOOS[= ]["']?(?:\$\{?TARGETOS\b|\$\([^)]*TARGETPLATFORM|linux\b)/;
const GOARCH_SET = /\bGOARCH[= ]["']?(?:\$\{?TARGETARCH\b|\$\([^)]*TARGETPLATFORM)/;
const GOARM_SET = /\bGOARM[= ]["']?(?:\$\{?TARGETVARIANT\b|\$\([^)]*TARGET(?:VARIANT|PLATFORM))/;
const CGO_OFF = /\bCGO_ENABLED[= ]["']?0\b/;
const TARGET_REF = /\$\{?(TARGETOS|TARGETARCH|TARGETVARIANT|TARGETPLATFORM)\b/g;

interface StageExtra {
  /** ENV and ARG instructions (their text matters to RUN steps). */
  env: { line: number; text: string }[];
  refs: string[];
}

/** The stage and its FROM <stage> chain, the root first. */
export function chainOf(stages: DockerfileStage[], i: number): number[] {
  const c: number[] = [];
  for (let s: number | undefined = i; s !== undefined; s = stages[s]?.base) c.unshift(s);
  return c;
}

/** Where a stage's RUN steps execute: the build platform, each target platform, or a fixed platform. */
function executesOn(stages: DockerfileStage[], i: number): 'build' | 'target' | string {
  const s = stages[i];
  if (!s || s.buildPlatform) return 'build';
  if (s.base !== undefined) return executesOn(stages, s.base);
  return s.platformFlag && !s.platformFlag.includes('$') ? s.platformFlag : 'target';
}

export function analyseDockerfile(text: string, opts: AnalyseOptions = {}): DockerfileReport {
  const { instructions } = parseDockerfile(text);
  const buildArgs = opts.buildArgs ?? {};
  const vars = new Map<string, string>();
  const stages: DockerfileStage[] = [];
  const extra: StageExtra[] = [];
  for (const ins of instructions) {
    const cur = stages[stages.length - 1];
    const x = extra[extra.length - 1];
    const flag = (name: string): string | undefined => ins.flags.find((f) => f.name === name)?.value;
    if (ins.keyword === 'FROM') {
      const w = words(ins.args);
      const from = w[0] ?? '';
      const name = w[1]?.toLowerCase() === 'as' ? w[2] : undefined;
      const image = expand(from, vars);
      const platformFlag = flag('platform');
      const base = stages.findIndex((s) => s.name?.toLowerCase() === image.toLowerCase());
      stages.push({
        index: stages.length,
        ...(name ? { name } : {}),
        from,
        image,
        fromLine: ins.line,
        ...(platformFlag !== undefined ? { platformFlag } : {}),
        buildPlatform: platformFlag !== undefined && expand(platformFlag, vars).trim() === '$BUILDPLATFORM',
        ...(base >= 0 ? { base } : {}),
        runs: [],
        args: [],
        copiesFrom: [],
        scratchLike: base >= 0 ? (stages[base]?.scratchLike ?? false) : isScratchLike(image)
      });
      extra.push({ env: [], refs: [] });
    } else if (ins.keyword === 'ARG') {
      for (const w of words(ins.args)) {
        const eq = w.indexOf('=');
        const name = eq < 0 ? w : w.slice(0, eq);
        if (!x) {
          const v = Object.hasOwn(buildArgs, name) ? buildArgs[name] : eq < 0 ? undefined : expand(unquote(w.slice(eq + 1)), vars);
          if (v !== undefined) vars.set(name, v);
        } else cur?.args.push({ name, line: ins.line });
      }
      x?.env.push({ line: ins.line, text: ins.args });
    } else if (ins.keyword === 'ENV') {
      x?.env.push({ line: ins.line, text: ins.args });
    } else if (ins.keyword === 'RUN' && cur && x) {
      const command = [ins.json ? ins.json.join(' ') : ins.args, ...ins.heredocs.map((h) => h.body)].join('\n');
      const mounts: CacheMount[] = [];
      const secrets: string[] = [];
      for (const f of ins.flags.filter((f) => f.name === 'mount')) {
        const m = parseMount(f.value);
        if (m.from) x.refs.push(expand(m.from, vars));
        if (m.type === 'secret') secrets.push(m.id ?? (m.target ?? '').split('/').pop() ?? '');
        if (m.type !== 'cache' || !m.target) continue;
        const c: CacheMount = { line: ins.line, target: m.target, id: m.id || m.target };
        for (const k of ['sharing', 'uid', 'gid', 'mode'] as const) if (m[k] !== undefined) c[k] = m[k];
        mounts.push(c);
      }
      cur.runs.push({ line: ins.line, command, mounts, secrets });
    } else if (ins.keyword === 'COPY' && x) {
      const from = flag('from');
      if (from) x.refs.push(expand(from, vars));
    }
  }
  if (stages.length === 0) throw new Error('The Dockerfile has no FROM instruction.');

  stages.forEach((s, i) => {
    for (const ref of extra[i]?.refs ?? []) {
      const j = /^\d+$/.test(ref) ? Number(ref) : stages.findIndex((t) => t.name?.toLowerCase() === ref.toLowerCase());
      if (j >= 0 && j < stages.length && j !== i && !s.copiesFrom.includes(j)) s.copiesFrom.push(j);
    }
  });

  let target = stages.length - 1;
  if (opts.target !== undefined) {
    const want = opts.target.toLowerCase();
    target = stages.findIndex((s) => s.name?.toLowerCase() === want);
    if (target < 0) {
      const names = stages.flatMap((s) => (s.name ? [`"${s.name}"`] : []));
      throw new Error(`Target stage "${opts.target}" is not in the Dockerfile (named stages: ${names.join(', ') || 'none'}).`);
    }
  }
  const seen = new Set<number>();
  const todo = [target];
  for (let i = todo.pop(); i !== undefined; i = todo.pop()) {
    const s = stages[i];
    if (!s || seen.has(i)) continue;
    seen.add(i);
    todo.push(...(s.base !== undefined ? [s.base] : []), ...s.copiesFrom);
  }
  const used = [...seen].sort((a, b) => a - b);

  /** What a RUN step sees: ENV/ARG of its stage chain before it, `go env -w` steps before it, and itself. */
  const contextOf = (i: number, run: { line: number; command: string }): string => {
    const chain = chainOf(stages, i);
    const env = chain.flatMap((c) => (extra[c]?.env ?? []).filter((e) => e.line < run.line).map((e) => e.text));
    const goEnv = chain.flatMap((c) => (stages[c]?.runs ?? []).filter((r) => r.line < run.line && /\bgo\s+env\s+-w\b/.test(r.command)));
    return [...env, ...goEnv.map((r) => r.command), run.command].join('\n');
  };
  const declared = (i: number, before: number): Set<string> =>
    new Set(chainOf(stages, i).flatMap((c) => (stages[c]?.args ?? []).filter((d) => d.line < before).map((d) => d.name)));

  const findings: Finding[] = [];
  const add = (line: number, code: FindingCode, facts: FindingFacts): void => {
    const { severity, message } = { severity: FINDINGS[code].severity, message: FINDINGS[code].message(facts) };
    if (!findings.some((f) => f.line === line && f.message === message)) findings.push({ line, severity, code, message });
  };
  const arm = (opts.platforms ?? []).filter((p) => /^linux\/arm(?:\/v\d+)?$/.test(p));
  let goCompileUnderEmulation = false;
  for (const i of used) {
    const s = stages[i] as DockerfileStage;
    const cross = executesOn(stages, i) === 'build';
    for (const run of s.runs) {
      const go = GO_BUILD.exec(run.command);
      if (!go) continue;
      const facts: FindingFacts = { stage: label(s), fromLine: s.fromLine, runLine: run.line };
      if (!cross) {
        goCompileUnderEmulation = true;
        add(run.line, 'go-under-qemu', facts);
        continue;
      }
      const ctx = contextOf(i, run);
      const xx = go[1] !== undefined; // tonistiigi/xx's xx-go sets GOOS/GOARCH/GOARM from TARGETPLATFORM itself
      const missing = xx
        ? []
        : [GOOS_SET.test(ctx) ? '' : 'GOOS=$TARGETOS', GOARCH_SET.test(ctx) ? '' : 'GOARCH=$TARGETARCH'].filter(Boolean);
      if (missing.length > 0) {
        add(run.line, 'goos-goarch-missing', { ...facts, missing });
      }
      const refs = new Set([...ctx.matchAll(TARGET_REF)].map((m) => m[1] ?? ''));
      if (xx) refs.add('TARGETPLATFORM');
      const have = declared(i, run.line);
      const undeclared = [...refs].filter((r) => !have.has(r)).sort();
      if (undeclared.length > 0) {
        add(run.line, 'goos-goarch-missing', { ...facts, undeclared });
      }
      if (arm.length > 0 && !xx && !GOARM_SET.test(ctx)) {
        add(run.line, 'goarm-missing', { ...facts, arm });
      }
    }
  }

  const t = stages[target] as DockerfileStage;
  const targetChain = chainOf(stages, target);
  if (t.scratchLike) {
    for (const src of targetChain.flatMap((c) => stages[c]?.copiesFrom ?? [])) {
      for (const c of chainOf(stages, src)) {
        for (const run of stages[c]?.runs ?? []) {
          if (!GO_BUILD.test(run.command) || CGO_OFF.test(contextOf(c, run))) continue;
          const stage = stages[c] as DockerfileStage;
          const final = { stage: label(t), from: t.from, fromLine: t.fromLine, runs: 0 };
          add(run.line, 'cgo-not-disabled', { stage: label(stage), fromLine: stage.fromLine, runLine: run.line, final });
        }
      }
    }
  }
  const finalRuns = targetChain.flatMap((c) => stages[c]?.runs ?? []);
  const firstRun = finalRuns[0];
  if (firstRun && executesOn(stages, target) !== 'build') {
    const final = { stage: label(t), from: t.from, fromLine: t.fromLine, runs: finalRuns.length };
    add(firstRun.line, 'final-stage-emulated', { stage: label(t), fromLine: t.fromLine, runLine: firstRun.line, final });
  }
  findings.sort((a, b) => a.line - b.line || a.code.localeCompare(b.code));

  const cacheMounts: CacheMount[] = [];
  for (const m of used.flatMap((i) => stages[i]?.runs ?? []).flatMap((r) => r.mounts))
    if (!cacheMounts.some((c) => c.id === m.id)) cacheMounts.push(m);

  return { stages, target, used, findings, cacheMounts, goCompileUnderEmulation };
}

/**
 * Platforms (e.g. 'linux/arm64') on which some used stage will EXECUTE a RUN step: a stage with RUN
 * steps whose FROM has no --platform=$BUILDPLATFORM (nor a base stage with it) runs on each target
 * platform (a fixed --platform=os/arch on that one); a stage with --platform=$BUILDPLATFORM runs on
 * the build platform. Stages that only COPY never execute anything. Target platforms first, in order.
 */
export function platformsExecuted(report: DockerfileReport, targetPlatforms: string[], buildPlatform: string): string[] {
  const found = new Set<string>();
  for (const i of report.used) {
    if ((report.stages[i]?.runs.length ?? 0) === 0) continue;
    const where = executesOn(report.stages, i);
    for (const p of where === 'build' ? [buildPlatform] : where === 'target' ? targetPlatforms : [where]) found.add(p);
  }
  const first = [...new Set(targetPlatforms)].filter((p) => found.has(p));
  return [...first, ...[...found].filter((p) => !first.includes(p))];
}
