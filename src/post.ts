// The post step: runs also when main failed. Saves the Go caches (the job summary says which were
// not saved and why), logs out, removes the builders this job created and the action's temporary
// Docker config. Never fails the job: problems are warnings.
import * as core from '@actions/core';
import { actionsCache } from './run/actions-cache.js';
import { dockerEnv, removeDockerConfig } from './run/docker-config.js';
import { saveGoCache } from './run/go-cache.js';
import { logout } from './run/login.js';
import { builderRemoveArgs } from './plan/commands/builders.js';
import { ExecRunner } from './run/runner.js';
import { loadState } from './run/state.js';

export async function post(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const state = loadState();
  if (!state.dockerConfig) return;
  const runner = new ExecRunner(dockerEnv(state.dockerConfig, env));
  // Before the builder goes: the Go caches are in its cache mounts. saveGoCache never throws.
  const notSaved: string[] = [];
  for (const entry of state.goCache ?? [])
    await saveGoCache(entry, runner, actionsCache, (why) => notSaved.push(`Go cache of ${entry.image}: ${why}`));
  if (notSaved.length > 0) await summarizeNotSaved(notSaved);
  // Each step on its own: one that fails does not keep the others from running.
  const step = async (what: string, fn: () => Promise<void>): Promise<void> => {
    try {
      await fn();
    } catch (e) {
      core.warning(`Post step, ${what}: ${(e as Error).message}`);
    }
  };
  await step('logout', () => logout(state.registries, runner));
  const builders = [
    ...(state.builders ?? []).map((b) => ({ name: b, keepState: false })),
    ...(state.nodeBuilders ?? []).map((b) => ({ name: b, keepState: true }))
  ];
  for (const { name, keepState } of builders) {
    await step(`removal of builder ${name}`, async () => {
      const r = await runner.docker(builderRemoveArgs(name, keepState), { allowFailure: true });
      if (r.exitCode === 0) core.info(`Removed builder ${name}${keepState ? ' (its build cache stays on the node)' : ''}`);
      else core.warning(`Could not remove builder ${name}: ${r.stderr.trim()}`);
    });
  }
  removeDockerConfig(state.dockerConfig);
  core.info('Removed the temporary Docker config');
}

/** The post step's part of the job summary: the caches it could not save, and why. */
async function summarizeNotSaved(lines: string[]): Promise<void> {
  try {
    await core.summary.addHeading('go-docker-publish: caches not saved', 3).addList(lines).write();
  } catch (e) {
    core.warning(`Could not write the job summary: ${(e as Error).message}`);
  }
}
