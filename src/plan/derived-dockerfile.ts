// The derived Dockerfile, pure. A `go build`/`go install` in a RUN step with no cache mount
// compiles every package again on every release (a new -X main.version never hits the layer
// cache). goBuildSteps finds those steps and says, for each, the mounts that keep Go's caches
// (`--mount=type=cache,target=<GOCACHE>` and `…<GOMODCACHE>`, the paths `go env` gives in the
// stage) and whether the action may add them; derivedDockerfile writes the Dockerfile with them
// added, on the RUN's own first line (every line number stays); goEnvQuery is the throwaway
// build that asks a stage's image for those paths. A step is left as written where a mount would
// change the image: in the final stage or a stage it is FROM, or in a stage whose cache
// directories another step copies out. The module cache is left out where an earlier step keeps
// modules in its layer (`go mod download` with no mount would be hidden) or the step reads a
// secret (private modules stay out of a cache that other builds share).
import { parseDockerfile, type Instruction } from './dockerfile-parser.js';
import { chainOf, GO_BUILD, type DockerfileReport, type Finding } from './dockerfile.js';
import { FINDINGS, type FindingFacts } from './findings.js';
import type { Plan } from './types.js';

/** Where Go keeps its caches in a stage, and the user it runs as (uid/gid when not root). */
export interface GoPaths {
  gocache: string;
  gomodcache: string;
  uid?: string;
  gid?: string;
}

/** `go env GOCACHE GOMODCACHE` in the golang image (root, GOPATH=/go). */
export const GOLANG_IMAGE_PATHS: GoPaths = { gocache: '/root/.cache/go-build', gomodcache: '/go/pkg/mod' };

/** A RUN step that runs go build/install with no cache mount. */
export interface GoBuildStep {
  line: number;
  stage: number;
  /** The mounts that keep its caches, for the paths known. */
  flags: string[];
  /** Why the action leaves it as written; unset: the derived Dockerfile adds `flags`. */
  kept?: string;
  /** Why the module cache is not among `flags`. */
  noModuleCache?: string;
}

/** Go commands that read or fill the module cache. */
const GO_MODULES = /(?:^|[\s;&|(`'"/])(?:xx-)?go\s+(?:build|install|get|run|test|vet|list|generate|mod|work)\b/;
const SAFE_PATH = /^\/[A-Za-z0-9._/@+-]*$/;
const READS_SECRET = 'the step reads a secret, and private modules stay out of a cache other builds share';

const label = (report: DockerfileReport, i: number): string => {
  const s = report.stages[i];
  return s?.name ? `stage "${s.name}"` : `stage ${i}`;
};

/** The instructions of each stage, and those before the first FROM (global ARGs). */
function byStage(text: string): { globals: Instruction[]; stages: Instruction[][]; escape?: string } {
  const { instructions, directives } = parseDockerfile(text);
  const globals: Instruction[] = [];
  const stages: Instruction[][] = [];
  for (const ins of instructions) {
    if (ins.keyword === 'FROM') stages.push([]);
    (stages[stages.length - 1] ?? globals).push(ins);
  }
  return { globals, stages, ...(directives.escape ? { escape: directives.escape } : {}) };
}

/** What steps copy out of each stage (COPY --from, RUN --mount=from=; no source is the whole stage), by stage index. */
function copiedOut(report: DockerfileReport, stages: Instruction[][]): Map<number, { path: string; line: number }[]> {
  const out = new Map<number, { path: string; line: number }[]>();
  const stageOf = (ref: string): number => {
    if (/^\d+$/.test(ref)) return Number(ref);
    return report.stages.findIndex((s) => s.name?.toLowerCase() === ref.toLowerCase());
  };
  const add = (ref: string, path: string, line: number): void => {
    const i = stageOf(ref);
    if (i >= 0) out.set(i, [...(out.get(i) ?? []), { path: `/${path.replace(/^\.?\/*/, '')}`, line }]);
  };
  for (const ins of stages.flat()) {
    const from = ins.flags.find((f) => f.name === 'from')?.value;
    if (ins.keyword === 'COPY' && from) {
      const words = ins.json ?? ins.args.match(/(?:"[^"]*"|'[^']*'|\S)+/g) ?? [];
      for (const w of words.slice(0, -1)) add(from, w.replace(/^(["'])(.*)\1$/, '$2'), ins.line);
    }
    for (const f of ins.keyword === 'RUN' ? ins.flags.filter((x) => x.name === 'mount') : []) {
      const opts = Object.fromEntries(
        f.value.split(',').map((kv) => [kv.split('=')[0]?.trim().toLowerCase(), kv.split('=').slice(1).join('=')])
      );
      if (opts.from) add(opts.from, opts.source ?? opts.src ?? '/', ins.line);
    }
  }
  return out;
}

/** Whether copying `path` takes `dir` along (a glob copies from the directory of its first wildcard). */
function covers(path: string, dir: string): boolean {
  const glob = /[*?[]/.exec(path);
  const base = (glob ? path.slice(0, glob.index).replace(/[^/]*$/, '') : path).replace(/\/+$/, '');
  return base === '' || dir === base || dir.startsWith(`${base}/`);
}

export function mountFlag(target: string, paths: GoPaths): string {
  const owner = paths.uid && paths.uid !== '0' ? `,uid=${paths.uid},gid=${paths.gid ?? paths.uid}` : '';
  return `--mount=type=cache,target=${target}${owner}`;
}

/** Stages with a go build/install step that has no cache mount and that are not part of the image: their Go paths are worth asking. */
export function stagesToAsk(report: DockerfileReport): number[] {
  const image = new Set(chainOf(report.stages, report.target));
  return report.used.filter(
    (i) => !image.has(i) && (report.stages[i]?.runs ?? []).some((r) => r.mounts.length === 0 && GO_BUILD.test(r.command))
  );
}

/**
 * Every go build/install step of the stages built that has no cache mount, with the mounts to add
 * and whether the action adds them. `pathsOf` gives a stage's Go paths, or why they are unknown.
 */
export function goBuildSteps(text: string, report: DockerfileReport, pathsOf: (stage: number) => GoPaths | string): GoBuildStep[] {
  const image = new Set(chainOf(report.stages, report.target));
  const copies = copiedOut(report, byStage(text).stages);
  const added = new Map<number, string[]>(); // line → mount targets the derived Dockerfile adds
  const steps: GoBuildStep[] = [];
  for (const i of report.used) {
    const chain = chainOf(report.stages, i);
    for (const run of report.stages[i]?.runs ?? []) {
      if (run.mounts.length > 0 || !GO_BUILD.test(run.command)) continue;
      const known = pathsOf(i);
      const paths = typeof known === 'string' ? GOLANG_IMAGE_PATHS : known;
      const step: GoBuildStep = { line: run.line, stage: i, flags: [mountFlag(paths.gocache, paths)] };
      // An earlier Go step of the chain that leaves the module cache in its layer: a mount would hide it.
      const earlier = chain
        .flatMap((c) => report.stages[c]?.runs ?? [])
        .find(
          (r) =>
            r.line < run.line &&
            GO_MODULES.test(r.command) &&
            ![...r.mounts.map((m) => m.target), ...(added.get(r.line) ?? [])].includes(paths.gomodcache)
        );
      if (run.secrets.length > 0) step.noModuleCache = READS_SECRET;
      else if (earlier) step.noModuleCache = `line ${earlier.line} runs go without it, so the modules are in that layer`;
      else step.flags.push(mountFlag(paths.gomodcache, paths));
      // What is copied out of this stage or one FROM it carries this stage's files.
      const copied = [...copies.entries()]
        .filter(([j]) => chainOf(report.stages, j).includes(i))
        .flatMap(([, cs]) => cs)
        .find((c) => covers(c.path, paths.gocache) || covers(c.path, paths.gomodcache));
      const kept = image.has(i)
        ? `${label(report, i)} is part of the image, which a cache mount would change (its caches would leave it)`
        : typeof known === 'string'
          ? known
          : copied && `line ${copied.line} copies ${copied.path} out of it, which would then lack the caches`;
      if (kept) step.kept = kept;
      else added.set(run.line, [paths.gocache, ...(step.noModuleCache ? [] : [paths.gomodcache])]);
      steps.push(step);
    }
  }
  return steps;
}

/** The Dockerfile with each step's mounts added after its RUN keyword, on the same line. */
export function derivedDockerfile(text: string, steps: GoBuildStep[]): string {
  const lines = text.split('\n');
  for (const s of steps) {
    if (s.kept !== undefined) continue;
    const l = lines[s.line - 1] ?? '';
    const m = /^(\s*run)(\s|$)/i.exec(l);
    if (!m?.[1]) throw new Error(`line ${s.line} of the Dockerfile does not start a RUN step`);
    lines[s.line - 1] = `${m[1]} ${s.flags.join(' ')}${m[2] === '' ? '' : l.slice(m[1].length)}`;
  }
  return lines.join('\n');
}

/**
 * The throwaway build that asks a stage's image where Go keeps its caches: the stage's image (its
 * root's FROM, on the build platform unless the stage names a fixed one) with the global ARGs and
 * the ARG, ENV and USER lines of its chain, `go env` and `id`, exported as /gdp-go-env. Returns
 * the Dockerfile and the build args it declares.
 */
export function goEnvQuery(text: string, report: DockerfileReport, stage: number): { dockerfile: string; args: string[] } {
  const parsed = byStage(text);
  const chain = chainOf(report.stages, stage);
  const root = report.stages[chain[0] ?? stage];
  const own = report.stages[stage]?.platformFlag ?? root?.platformFlag;
  const platform = own && !own.includes('$') ? own : '$BUILDPLATFORM';
  // Up to the stage's first go build without a cache mount: a later USER or ENV is not its.
  const upTo = report.stages[stage]?.runs.find((r) => r.mounts.length === 0 && GO_BUILD.test(r.command))?.line ?? Infinity;
  const kept = (ins: Instruction): boolean => ['ARG', 'ENV', 'USER'].includes(ins.keyword) && ins.line < upTo;
  const lines = [...parsed.globals.filter(kept), ...chain.flatMap((c) => (parsed.stages[c] ?? []).filter(kept))];
  const args = lines.filter((l) => l.keyword === 'ARG').flatMap((l) => l.args.split(/\s+/).map((w) => w.split('=')[0] ?? ''));
  const globals = parsed.globals.filter(kept).length;
  const dockerfile = [
    ...(parsed.escape ? [`# escape=${parsed.escape}`] : []),
    ...lines.slice(0, globals).map((l) => `${l.keyword} ${l.args}`),
    `FROM --platform=${platform} ${root?.from ?? 'scratch'} AS gdp-go-env`,
    ...lines.slice(globals).map((l) => `${l.keyword} ${l.args}`),
    'RUN go env GOCACHE GOMODCACHE > /tmp/gdp-go-env && id -u >> /tmp/gdp-go-env && id -g >> /tmp/gdp-go-env',
    'FROM scratch',
    'COPY --from=gdp-go-env /tmp/gdp-go-env /gdp-go-env',
    ''
  ].join('\n');
  return { dockerfile, args: [...new Set(args.filter(Boolean))] };
}

/** The query's answer (GOCACHE, GOMODCACHE, uid, gid, a line each), or why it cannot be used. */
export function parseGoEnv(answer: string): GoPaths | string {
  const [gocache = '', gomodcache = '', uid = '', gid = ''] = answer
    .trim()
    .split('\n')
    .map((l) => l.trim());
  if (gocache === 'off') return 'GOCACHE=off in that stage';
  if (![gocache, gomodcache].every((p) => SAFE_PATH.test(p)) || !/^\d+$/.test(uid) || !/^\d+$/.test(gid))
    return `go env gave ${JSON.stringify(answer.trim().slice(0, 200))}, not two absolute paths (without spaces or commas) and a user`;
  return { gocache, gomodcache, ...(uid !== '0' ? { uid, gid } : {}) };
}

/** Whether this run builds from derived Dockerfiles: go-cache: auto, in a mode that builds. */
export function derivesDockerfiles(plan: Pick<Plan, 'goCache' | 'mode'>): boolean {
  return plan.goCache === 'auto' && plan.mode !== 'merge';
}

/** Where the check's paths come from when no image was asked. */
export const GOLANG_PATHS_NOTE = "the golang image's paths; `go env GOCACHE GOMODCACHE` in the stage gives its own";

/** The Dockerfile check's finding for each step: the mounts to add, and whether this run's derived Dockerfile adds them. */
export function goCacheFindings(
  report: DockerfileReport,
  steps: GoBuildStep[],
  o: { pathsFrom: (stage: number) => string; derived: boolean }
): Finding[] {
  const code = 'go-cache-mount-missing';
  return steps.map((s) => {
    const facts: FindingFacts = {
      stage: label(report, s.stage),
      fromLine: report.stages[s.stage]?.fromLine ?? 0,
      runLine: s.line,
      mounts: s.flags,
      pathsFrom: o.pathsFrom(s.stage),
      derived: o.derived && s.kept === undefined,
      ...(s.kept !== undefined ? { kept: s.kept } : {}),
      ...(s.noModuleCache !== undefined ? { noModuleCache: s.noModuleCache } : {})
    };
    return { line: s.line, severity: FINDINGS[code].severity, code, message: FINDINGS[code].message(facts) };
  });
}
