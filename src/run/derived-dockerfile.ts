// The derived Dockerfile phase, after the builder and before the Go cache restore: for an image
// whose go build steps have no cache mount (the check's go-cache-mount-missing findings), ask each
// such stage's image where Go keeps its caches (`go env GOCACHE GOMODCACHE` in a throwaway build
// on the runner's builder; a dry run records it and takes the golang image's paths), write a copy
// of the Dockerfile with the mounts added (plan/derived-dockerfile.ts) among the run's files under
// RUNNER_TEMP, with its own .dockerignore beside it, and make that copy the build's --file. The Go
// cache phase then restores and saves those mounts as it does declared ones. The log, an
// annotation on each line, the plan and the summary say what was added. Off with go-cache: false.
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import * as core from '@actions/core';
import { analyseFor, goCacheSpec } from '../plan/check.js';
import { goEnvQueryArgs } from '../plan/commands/build.js';
import {
  derivedDockerfile,
  derivesDockerfiles,
  goBuildSteps,
  goCacheFindings,
  goEnvQuery,
  GOLANG_IMAGE_PATHS,
  GOLANG_PATHS_NOTE,
  parseGoEnv,
  stagesToAsk,
  type GoPaths
} from '../plan/derived-dockerfile.js';
import { chainOf } from '../plan/dockerfile.js';
import type { Plan, PlannedImage } from '../plan/types.js';
import { annotate } from './check.js';
import { lastLines, type Runner } from './runner.js';

const CODE = 'go-cache-mount-missing';

/**
 * Derives the Dockerfile of each image that needs it. Returns, per image, what was added for the
 * job summary (undefined: built from its own Dockerfile).
 */
export async function deriveDockerfiles(
  plan: Plan,
  builder: string,
  runner: Runner,
  o: { tmp: string; workspace: string; dryRun: boolean }
): Promise<(string | undefined)[]> {
  if (!derivesDockerfiles(plan)) return [];
  const answers = new Map<string, GoPaths | string>(); // the query's Dockerfile → its answer
  const out: (string | undefined)[] = [];
  for (const [i, img] of plan.images.entries()) {
    const check = img.check;
    if (!check?.findings.some((f) => f.code === CODE)) {
      out.push(undefined);
      continue;
    }
    const source = resolve(o.workspace, img.dockerfile);
    const text = readFileSync(source, 'utf8');
    const report = analyseFor(img, text);
    const asked = new Map<number, GoPaths | string>();
    for (const stage of stagesToAsk(report)) {
      const q = goEnvQuery(text, report, stage);
      if (!answers.has(q.dockerfile)) {
        const answer = await askGoEnv(q, img, builder, runner, join(o.tmp, `go-env-${answers.size}`));
        answers.set(q.dockerfile, o.dryRun ? GOLANG_IMAGE_PATHS : answer);
      }
      asked.set(stage, answers.get(q.dockerfile) as GoPaths | string);
    }
    const imageOf = (stage: number): string => report.stages[chainOf(report.stages, stage)[0] ?? stage]?.image ?? '';
    const pathsFrom = (stage: number): string => {
      if (!asked.has(stage)) return GOLANG_PATHS_NOTE;
      return o.dryRun ? "the golang image's paths: a dry run does not ask the image" : `the paths go env gives in ${imageOf(stage)}`;
    };
    const steps = goBuildSteps(text, report, (s) => asked.get(s) ?? GOLANG_IMAGE_PATHS);
    const findings = goCacheFindings(report, steps, { pathsFrom, derived: true });
    check.findings = [...check.findings.filter((f) => f.code !== CODE), ...findings].sort(
      (a, b) => a.line - b.line || a.code.localeCompare(b.code)
    );
    for (const [stage, a] of asked) {
      if (typeof a === 'string')
        core.warning(`${img.name}: could not ask ${imageOf(stage)} where Go keeps its caches (${a}): its go build stays as written`);
    }
    for (const f of findings) annotate(img, f);
    const added = steps.filter((s) => s.kept === undefined);
    if (added.length === 0) {
      out.push(undefined);
      continue;
    }
    const file = join(o.tmp, `derived-${i}`, basename(img.dockerfile));
    const derived = derivedDockerfile(text, steps);
    mkdirSync(join(o.tmp, `derived-${i}`), { recursive: true });
    writeFileSync(file, derived);
    // BuildKit reads <Dockerfile>.dockerignore from beside the Dockerfile, before the context's .dockerignore.
    if (existsSync(`${source}.dockerignore`)) copyFileSync(`${source}.dockerignore`, `${file}.dockerignore`);
    img.derived = { file, added: added.map((s) => ({ line: s.line, flags: s.flags })) };
    check.goCache = goCacheSpec(analyseFor(img, derived)) ?? check.goCache;
    const lines = added.map((s) => `line ${s.line}: ${s.flags.join(' ')}`);
    core.info(`Derived Dockerfile of ${img.name}: ${img.dockerfile} with Go cache mounts added (go-cache: auto), built as ${file}`);
    for (const l of lines) core.info(`  ${l}`);
    out.push(lines.join('; '));
  }
  return out;
}

/** The answer of one go env query, or why there is none. */
async function askGoEnv(
  q: { dockerfile: string; args: string[] },
  img: PlannedImage,
  builder: string,
  runner: Runner,
  dir: string
): Promise<GoPaths | string> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'Dockerfile'), q.dockerfile);
  const args = Object.fromEntries(q.args.flatMap((a) => (img.buildArgs[a] !== undefined ? [[a, img.buildArgs[a]]] : [])));
  const r = await runner.docker(goEnvQueryArgs(builder, join(dir, 'Dockerfile'), join(dir, 'out'), args, dir), {
    silent: true,
    allowFailure: true
  });
  if (r.exitCode !== 0) return `go env failed: ${lastLines(r.stderr, 1)}`;
  try {
    return parseGoEnv(readFileSync(join(dir, 'out', 'gdp-go-env'), 'utf8'));
  } catch {
    return 'go env gave no answer';
  }
}
