// The post step: runs also when main failed. Saves the Go caches (the job summary says which were
// not saved and why), logs out, removes the builders this job created (not the runner's own on a
// GitHub-hosted runner: its VM is discarded after the job, builder and all; a build node's
// always) and the action's temporary Docker config, and adds its time to the step summary. Never
// fails the job: problems are warnings.
import * as core from '@actions/core';
import { actionsCache } from './run/actions-cache.js';
import { dockerEnv, removeDockerConfig } from './run/docker-config.js';
import { saveGoCache } from './run/go-cache.js';
import { logout } from './run/login.js';
import { builderRemoveArgs } from './plan/commands/builders.js';
import { PhaseClock } from './report/phases.js';
import { addPhaseTable } from './report/summary.js';
import { ExecRunner } from './run/runner.js';
import { loadState } from './run/state.js';

export async function post(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const state = loadState();
  if (!state.dockerConfig) return;
  const dockerConfig = state.dockerConfig;
  const clock = new PhaseClock();
  const notSaved: string[] = [];
  await clock.time('post', async () => {
    const runner = new ExecRunner(dockerEnv(dockerConfig, env));
    // Before the builder goes: the Go caches are in its cache mounts. saveGoCache never throws.
    if (state.goCache?.length) {
      await clock.time('post: Go cache save', async () => {
        for (const entry of state.goCache ?? [])
          await saveGoCache(entry, runner, actionsCache, (why) => notSaved.push(`Go cache of ${entry.image}: ${why}`));
      });
    }
    // Each step on its own: one that fails does not keep the others from running.
    const step = async (what: string, fn: () => Promise<void>): Promise<void> => {
      try {
        await fn();
      } catch (e) {
        core.warning(`Post step, ${what}: ${(e as Error).message}`);
      }
    };
    await step('logout', () => logout(state.registries, runner));
    const hosted = env.RUNNER_ENVIRONMENT === 'github-hosted';
    for (const name of hosted ? (state.builders ?? []) : []) {
      core.info(`Left builder ${name} in place: a GitHub-hosted runner (RUNNER_ENVIRONMENT=github-hosted) discards its VM after the job`);
    }
    const builders = [
      ...(hosted ? [] : (state.builders ?? [])).map((b) => ({ name: b, keepState: false })),
      ...(state.nodeBuilders ?? []).map((b) => ({ name: b, keepState: true }))
    ];
    for (const { name, keepState } of builders) {
      await step(`removal of builder ${name}`, async () => {
        const r = await runner.docker(builderRemoveArgs(name, keepState), { allowFailure: true });
        if (r.exitCode === 0) core.info(`Removed builder ${name}${keepState ? ' (its build cache stays on the node)' : ''}`);
        else core.warning(`Could not remove builder ${name}: ${r.stderr.trim()}`);
      });
    }
    removeDockerConfig(dockerConfig);
    core.info('Removed the temporary Docker config');
  });
  await summarize(env, notSaved, clock);
}

/** The post step's part of the job summary: the caches it could not save, and why; its time. */
async function summarize(env: NodeJS.ProcessEnv, notSaved: string[], clock: PhaseClock): Promise<void> {
  if (!env.GITHUB_STEP_SUMMARY) return;
  try {
    if (notSaved.length > 0) core.summary.addHeading('go-docker-publish: caches not saved', 3).addList(notSaved);
    addPhaseTable(clock.phases, 'Post step');
    await core.summary.write();
  } catch (e) {
    core.warning(`Could not write the job summary: ${(e as Error).message}`);
  }
}
