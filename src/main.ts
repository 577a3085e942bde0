// The main step: read and validate everything, make the plan, then print it (dry run) or run it.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import * as core from '@actions/core';
import { applyChecks } from './plan/check.js';
import { gitCommitTime, readEventContext } from './context.js';
import { checkImageFiles, readInputs } from './inputs.js';
import { loginArgs, smokeRunArgs, tagArgs } from './plan/commands.js';
import { partArgs, partDriver, partOf, rewritesTimestamps } from './run/build.js';
import { nodeContexts, nodeSetupArgs, splitPlatforms, type BuildPart } from './run/nodes.js';
import { cacheService } from './plan/cache-service.js';
import { buildPlan } from './plan/plan.js';
import { indexAnnotations } from './plan/labels.js';
import { cosignSignArgs } from './plan/sign.js';
import type { Plan, PlannedImage } from './plan/types.js';
import { describePlan, planOutcomes, setOutputs, writeSummary } from './report.js';
import { createDockerConfig } from './run/docker-config.js';
import { maskCredentials, maskSigningKey } from './run/login.js';
import { runPipeline } from './run/pipeline.js';
import { floatingTagsToKeep } from './run/push.js';
import { DockerCli } from './run/runner.js';
import { actionsCache } from './run/go-cache.js';
import { smokePlatforms, smokeRef } from './run/smoke.js';
import { nodeArch } from './run/qemu.js';
import { loadState, saveState } from './run/state.js';

export async function main(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  let plan: Plan;
  try {
    const inputs = readInputs((name) => core.getInput(name, { trimWhitespace: false }));
    maskCredentials(inputs.registries);
    if (inputs.sign.mode === 'key') maskSigningKey(inputs.sign.key, inputs.sign.password);
    checkImageFiles(inputs.images, env.GITHUB_WORKSPACE || process.cwd());
    const commitTime = await gitCommitTime(env.GITHUB_WORKSPACE || process.cwd(), env.GITHUB_SHA ?? '');
    plan = buildPlan(inputs, readEventContext(env, commitTime), nodeArch());
    for (const n of plan.notices) core.notice(n);
    if (plan.mode !== 'publish' && plan.push && !inputs.dryRun) checkHandoffPossible(plan.mode, env);
    if (plan.push && !inputs.dryRun) await checkSigningPossible(plan, env);
    checkDockerfiles(plan, env.GITHUB_WORKSPACE || process.cwd());
    if (inputs.dryRun) {
      core.info(describePlan(plan, plannedCommands(plan)));
      // Read-only registry look-ups (docker buildx imagetools inspect), once each, with the user's config.
      const keep = await floatingTagsToKeep(plan, new DockerCli(dockerEnvOf(env)), { attempts: 1, baseDelayMs: 0 }, true);
      setOutputs(
        plan,
        planOutcomes(plan).map((o) => ({ ...o, tags: o.tags.filter((t) => !keep.has(t)) })),
        false
      );
      core.info('Dry run: nothing was run.');
      return;
    }
  } catch (e) {
    core.setFailed((e as Error).message);
    return;
  }

  const dockerConfig = createDockerConfig(env);
  const state = { ...loadState(), dockerConfig: dockerConfig.dir };
  saveState(state);
  const runner = new DockerCli(dockerConfig.env);
  const res = await runPipeline(
    plan,
    runner,
    {
      loggedIn: (r) => {
        state.registries.push(r);
        saveState(state);
      },
      builderCreated: (b) => {
        state.builders = [...(state.builders ?? []), b];
        saveState(state);
      },
      nodeBuilderCreated: (b) => {
        state.nodeBuilders = [...(state.nodeBuilders ?? []), b];
        saveState(state);
      },
      goCacheReady: (entry) => {
        state.goCache = [...(state.goCache ?? []), entry];
        saveState(state);
      }
    },
    {
      runId: env.GITHUB_RUN_ID ? `${env.GITHUB_RUN_ID}-${env.GITHUB_RUN_ATTEMPT || '1'}` : String(process.pid),
      ghaCache: cacheService(env),
      tempDir: env.RUNNER_TEMP,
      workspace: env.GITHUB_WORKSPACE || process.cwd(),
      workflowRun: { id: env.GITHUB_RUN_ID ?? '', attempt: env.GITHUB_RUN_ATTEMPT || '1', sha: env.GITHUB_SHA ?? '' },
      signRun: { serverUrl: env.GITHUB_SERVER_URL || 'https://github.com', workflowRef: env.GITHUB_WORKFLOW_REF ?? '' }
    }
  );
  setOutputs(plan, res.images, res.pushed, res.pushedRefs);
  // A run that fails after pushing some tags says exactly which refs are in a registry and which not.
  const notPushed = res.images.flatMap((i) => i.tags).filter((r) => !res.pushedRefs.includes(r));
  const partial =
    res.error && res.pushedRefs.length > 0
      ? `Pushed before the failure: ${res.pushedRefs.join(', ')}. Not pushed: ${notPushed.join(', ')}.`
      : '';
  const note = res.error
    ? `Failed: ${res.error.message.split('\n')[0]}${partial ? ` ${partial}` : ''}`
    : res.pushed
      ? 'Pushed.'
      : plan.push && plan.mode === 'platform'
        ? 'Pushed by digest, untagged: the merge job (mode: merge) tags every image once every platform run has passed.'
        : `Not pushed: ${plan.pushReason}.`;
  try {
    await writeSummary(plan, res.images, note, res.pushedRefs);
  } catch (e) {
    core.warning(`Could not write the job summary: ${(e as Error).message}`);
  }
  if (res.error) {
    if (partial) core.error(partial);
    core.setFailed(res.error.message);
  }
}

/**
 * sign: what signing needs, checked before anything runs: the cosign CLI, and for keyless the
 * workflow's OIDC token (permissions: id-token: write) and GITHUB_WORKFLOW_REF. A platform run
 * never signs (the merge job signs the index).
 */
async function checkSigningPossible(plan: Plan, env: NodeJS.ProcessEnv): Promise<void> {
  if (plan.sign.mode === 'false') return;
  if (plan.mode === 'platform') {
    core.info(`sign: ${plan.sign.mode}: a platform run signs nothing; the merge job signs each image's index`);
    return;
  }
  if (plan.sign.mode === 'keyless') {
    const missing = ['ACTIONS_ID_TOKEN_REQUEST_URL', 'ACTIONS_ID_TOKEN_REQUEST_TOKEN', 'GITHUB_WORKFLOW_REF'].filter((v) => !env[v]);
    if (missing.length > 0) {
      throw new Error(
        `Input "sign": "keyless" is not valid here. Expected a job with "permissions: id-token: write" on GitHub Actions (${missing.join(', ')} not set): the signing certificate is issued for the workflow's OIDC token.`
      );
    }
  }
  const found = await new DockerCli(dockerEnvOf(env))
    .cosign(['version', '--json'], { silent: true, allowFailure: true })
    .catch(() => undefined);
  if (!found || found.exitCode !== 0) {
    throw new Error(
      `Input "sign": "${plan.sign.mode}" is not valid here. Expected the cosign CLI on PATH (add "- uses: sigstore/cosign-installer@v3" before this step): cosign was not found.`
    );
  }
}

/**
 * mode platform and merge carry the digests through the run's GitHub Actions cache, under the
 * workflow run's ID: without either, fail before anything runs.
 */
function checkHandoffPossible(mode: Plan['mode'], env: NodeJS.ProcessEnv): void {
  const missing = [
    env.GITHUB_RUN_ID ? '' : 'GITHUB_RUN_ID',
    env.GITHUB_SHA ? '' : 'GITHUB_SHA',
    actionsCache.available() ? '' : `the GitHub Actions cache service (${cacheService(env).reason})`
  ].filter(Boolean);
  if (missing.length === 0) return;
  throw new Error(
    `Input "mode": "${mode}" is not valid here. Expected a workflow run with ${missing.join(' and ')}: the platform runs hand their digests to the merge job through the run's Actions cache. Use mode: publish outside a matrix.`
  );
}

/**
 * The Dockerfile check: findings go to the log as annotations on the Dockerfile line. A Dockerfile
 * the check cannot read is a warning (BuildKit has the last word), never a failed run.
 */
function checkDockerfiles(plan: Plan, workspace: string): void {
  const log = applyChecks(plan, (f) => readFileSync(resolve(workspace, f), 'utf8'), `linux/${nodeArch()}`, availableParallelism());
  for (const img of plan.images) {
    const findings = img.check?.findings ?? [];
    if (findings.length === 0) core.info(`Dockerfile check of ${img.name} (${img.dockerfile}): no findings`);
    for (const f of findings) {
      const text = `${img.name}: ${img.dockerfile}:${f.line}: ${f.message}`;
      const props = { title: `Dockerfile check (${f.code})`, file: img.dockerfile, startLine: f.line };
      if (f.severity === 'warning') core.warning(text, props);
      else core.notice(text, props);
    }
  }
  for (const l of log.warnings) core.warning(l);
  for (const l of log.notices) core.notice(l);
}

/** Every docker command a real run of the plan would start (for the dry-run print). */
export function plannedCommands(plan: Plan): string[][] {
  const cmds: string[][] = [];
  if (plan.push) for (const r of plan.registries) cmds.push(loginArgs(r.registry, r.username));
  const tag = (img: PlannedImage, sources: string[]): void => {
    for (const r of img.refs) cmds.push(tagArgs(r, sources, indexAnnotations(img.labels)));
  };
  const sign = (): string[][] => {
    const spec = plan.sign;
    if (spec.mode === 'false') return [];
    const config = spec.mode === 'key' && !spec.transparencyLog ? '<tmp>/signing-config.json' : undefined;
    return plan.images.flatMap((img) => img.repositories.map((r) => ['cosign', ...cosignSignArgs(`${r}@<index digest>`, spec, config)]));
  };
  if (plan.mode === 'merge') {
    // The digests come from the platform runs' records (the Actions cache), one per platform.
    if (!plan.push) return cmds;
    plan.images.forEach((img) =>
      tag(
        img,
        img.platforms.map((p) => `${img.repositories[0] ?? img.name}@<digest of ${p}>`)
      )
    );
    return [...cmds, ...sign()];
  }
  const nodes = nodeContexts(plan.builderEndpoints);
  for (const n of nodes) cmds.push(...nodeSetupArgs(n));
  const cache = plan.cache !== 'none';
  const rewrite = (img: PlannedImage, part: BuildPart): boolean => rewritesTimestamps(img, partDriver(part, plan.builder));
  const parts = plan.images.map((img) => splitPlatforms(img.platforms, nodes));
  plan.images.forEach((img, i) => {
    for (const part of parts[i] ?? []) cmds.push(partArgs(plan, img, part, '<builder>', { type: 'cacheonly' }, '<tmp>/build.json', cache));
  });
  plan.images.forEach((img, i) => {
    if (!img.smoke.enabled) return;
    for (const p of smokePlatforms(img, plan.smokePlatforms, nodeArch())) {
      const part = { ...partOf(parts[i] ?? [], p), platforms: [p] };
      const dest = part.node ? '<tmp>/load.tar' : undefined;
      const output = { type: 'load' as const, name: smokeRef(img), dest, rewriteTimestamp: rewrite(img, part) };
      cmds.push(partArgs(plan, img, part, '<builder>', output, '<tmp>/load.json', false));
      if (dest) cmds.push(['load', `--input=${dest}`]);
      cmds.push(smokeRunArgs(smokeRef(img), p, img.smoke, '<container>'));
    }
  });
  if (!plan.push) return cmds;
  plan.images.forEach((img, i) => {
    const repository = img.repositories[0] ?? img.name;
    const mine = parts[i] ?? [];
    mine.forEach((part, j) => {
      const attestations = { provenance: plan.provenance, sbom: plan.sbom };
      const output = { type: 'push-by-digest' as const, repository, rewriteTimestamp: rewrite(img, part), attestations };
      cmds.push(partArgs(plan, img, part, '<builder>', output, `<tmp>/push-${j}.json`, false));
    });
  });
  if (plan.mode === 'platform') return cmds; // the merge job tags
  plan.images.forEach((img, i) =>
    tag(
      img,
      (parts[i] ?? []).map((_, j) => `${img.repositories[0] ?? img.name}@<digest${j ? `-${j + 1}` : ''}>`)
    )
  );
  cmds.push(...sign());
  return cmds;
}

/** The environment of a dry run's read-only docker calls: the process's own, as strings. */
function dockerEnvOf(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
}
