// The main step: read and validate everything, make the plan, then print it (dry run) or run it.
import * as core from '@actions/core';
import { gitCommitTime, readEventContext } from './context.js';
import { checkImageFiles, readInputs } from './inputs.js';
import { loginArgs, smokeRunArgs } from './plan/commands.js';
import { imageBuildArgs } from './run/build.js';
import { buildPlan } from './plan/plan.js';
import type { Plan } from './plan/types.js';
import { describePlan, planOutcomes, setOutputs, writeSummary } from './report.js';
import { createDockerConfig } from './run/docker-config.js';
import { maskCredentials } from './run/login.js';
import { runPipeline } from './run/pipeline.js';
import { DockerCli } from './run/runner.js';
import { smokePlatforms } from './run/smoke.js';
import { nodeArch } from './run/qemu.js';
import { loadState, saveState } from './run/state.js';

export async function main(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  let plan: Plan;
  try {
    const inputs = readInputs((name) => core.getInput(name, { trimWhitespace: false }));
    maskCredentials(inputs.registries);
    checkImageFiles(inputs.images, env.GITHUB_WORKSPACE || process.cwd());
    const commitTime = await gitCommitTime(env.GITHUB_WORKSPACE || process.cwd(), env.GITHUB_SHA ?? '');
    plan = buildPlan(inputs, readEventContext(env, commitTime));
    for (const n of plan.notices) core.notice(n);
    if (inputs.dryRun) {
      core.info(describePlan(plan, plannedCommands(plan)));
      setOutputs(plan, planOutcomes(plan), false);
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
        state.builder = b;
        saveState(state);
      }
    },
    {
      runId: env.GITHUB_RUN_ID || String(process.pid),
      ghaCacheAvailable: Boolean(env.ACTIONS_CACHE_URL && env.ACTIONS_RUNTIME_TOKEN),
      tempDir: env.RUNNER_TEMP
    }
  );
  setOutputs(plan, res.images, res.pushed);
  const note = res.error ? `Failed: ${res.error.message.split('\n')[0]}` : res.pushed ? 'Pushed.' : `Not pushed: ${plan.pushReason}.`;
  try {
    await writeSummary(plan, res.images, res.pushed, note);
  } catch (e) {
    core.warning(`Could not write the job summary: ${(e as Error).message}`);
  }
  if (res.error) {
    if (res.pushedRefs.length > 0) core.error(`Pushed before the failure: ${res.pushedRefs.join(', ')}`);
    core.setFailed(res.error.message);
  }
}

/** Every docker command a real run of the plan would start (for the dry-run print). */
export function plannedCommands(plan: Plan): string[][] {
  const cmds: string[][] = [];
  if (plan.push) for (const r of plan.registries) cmds.push(loginArgs(r.registry, r.username));
  plan.images.forEach((img, i) => cmds.push(imageBuildArgs(plan, img, '<builder>', `<tmp>/metadata-${i}.json`, plan.cache !== 'none')));
  for (const img of plan.images) {
    if (!img.smoke.enabled) continue;
    for (const p of smokePlatforms(img, plan.smokePlatforms, nodeArch()))
      cmds.push(smokeRunArgs(img.refs[0] ?? img.name, p, img.smoke, '<container>'));
  }
  if (plan.push) for (const img of plan.images) for (const r of img.refs) cmds.push(['push', r]);
  return cmds;
}
