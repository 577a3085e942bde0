// The main step: read and validate everything, make the plan, check the Dockerfiles, then run it
// (or, with dry-run, run it with a recording runner) and report. Only wiring: each of these is a
// module of its own.
import * as core from '@actions/core';
import { gitCommitTime, readEventContext } from './context.js';
import { checkImageFiles, resolveSecretSources } from './inputs/files.js';
import { readInputs } from './inputs/index.js';
import { cacheService } from './plan/cache-service.js';
import { buildPlan } from './plan/plan.js';
import type { Plan } from './plan/types.js';
import { reportRun } from './report/index.js';
import { checkDockerfiles } from './run/check.js';
import { createDockerConfig, readUserConfig } from './run/docker-config.js';
import { dryRun } from './run/dry-run.js';
import { actionsCache } from './run/actions-cache.js';
import { checkHandoffPossible } from './run/handoff.js';
import { noteMissingCredentials } from './run/login.js';
import { maskSecretFiles, maskSecrets } from './run/masks.js';
import { runPipeline, type PipelineEnv } from './run/pipeline.js';
import { registryTagLister } from './run/registry-tags.js';
import { nodeArch } from './run/qemu.js';
import { ExecRunner, processEnv } from './run/runner.js';
import { checkAttestingPossible } from './run/attest.js';
import { githubAttester } from './run/github-attest.js';
import { checkSigningPossible } from './run/sign.js';
import { jobInstance, jobRunId, loadState, saveState, savingHooks } from './run/state.js';

export async function main(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const workspace = env.GITHUB_WORKSPACE || process.cwd();
  // Before the action's own Docker config exists: git, cosign's presence and a dry run's reads use the user's environment.
  const userRunner = new ExecRunner(processEnv(env));
  let plan: Plan;
  let dry: boolean;
  try {
    const read = readInputs((name) => core.getInput(name, { trimWhitespace: false }));
    maskSecrets(read, env);
    maskSecretFiles(read.buildSecrets, workspace);
    checkImageFiles(read.images, workspace);
    const inputs = { ...read, buildSecrets: resolveSecretSources(read.buildSecrets, env, workspace) };
    const commitTime = await gitCommitTime(workspace, env.GITHUB_SHA ?? '', userRunner);
    plan = buildPlan(inputs, readEventContext(env, commitTime), nodeArch());
    dry = inputs.dryRun;
    for (const n of plan.notices) core.notice(n);
    if (plan.mode !== 'publish' && plan.push && !dry) checkHandoffPossible(plan.mode, env, actionsCache);
    if (plan.push && !dry) await checkSigningPossible(plan, env, userRunner);
    if (plan.push && !dry) checkAttestingPossible(plan, env);
    checkDockerfiles(plan, workspace);
  } catch (e) {
    core.setFailed((e as Error).message);
    return;
  }
  // What makes the names this job creates (builder, smoke containers, Go cache keys) its own:
  // matrix jobs of one workflow run share GITHUB_RUN_ID and GITHUB_JOB, and may share an engine.
  const instance = jobInstance();
  if (dry) return dryRun(plan, userRunner, actionsCache, pipelineEnv(env, workspace, instance));

  const dockerConfig = createDockerConfig(
    env,
    plan.registries.map((r) => r.registry)
  );
  noteMissingCredentials(plan, dockerConfig.config);
  const state = { ...loadState(), dockerConfig: dockerConfig.dir, instance };
  saveState(state);
  const runner = new ExecRunner(dockerConfig.env);
  const github = plan.attest.github ? githubAttester(plan.attest.github, plan.registries, readUserConfig(env)) : undefined;
  const res = await runPipeline(plan, runner, savingHooks(state), {
    ...pipelineEnv(env, workspace, instance),
    registryTags: registryTagLister(dockerConfig.dir, runner),
    ...(github ? { githubAttester: github } : {})
  });
  await reportRun(plan, res);
}

/** What the pipeline needs of the runner's variables; `instance` is this job's own part of every name it creates. */
function pipelineEnv(env: NodeJS.ProcessEnv, workspace: string, instance: string): PipelineEnv {
  return {
    runId: jobRunId(env, instance),
    ghaCache: cacheService(env),
    tempDir: env.RUNNER_TEMP,
    workspace,
    workflowRun: { id: env.GITHUB_RUN_ID ?? '', attempt: env.GITHUB_RUN_ATTEMPT || '1', sha: env.GITHUB_SHA ?? '' },
    signRun: {
      serverUrl: env.GITHUB_SERVER_URL || 'https://github.com',
      workflowRef: env.GITHUB_WORKFLOW_REF ?? '',
      repository: env.GITHUB_REPOSITORY ?? '',
      runId: env.GITHUB_RUN_ID ?? '',
      runAttempt: env.GITHUB_RUN_ATTEMPT || '1'
    }
  };
}
