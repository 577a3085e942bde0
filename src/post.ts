// The post step: runs also when main failed. Logs out, removes a builder the action created and
// the action's temporary Docker config. Never fails the job: problems are warnings.
import * as core from '@actions/core';
import { dockerEnv, removeDockerConfig } from './run/docker-config.js';
import { actionsCache, saveGoCache } from './run/go-cache.js';
import { logout } from './run/login.js';
import { DockerCli } from './run/runner.js';
import { loadState } from './run/state.js';

export async function post(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const state = loadState();
  if (!state.dockerConfig) return;
  const runner = new DockerCli(dockerEnv(state.dockerConfig, env));
  try {
    // Before the builder goes: the Go caches are in its cache mounts.
    for (const entry of state.goCache ?? []) await saveGoCache(entry, runner, actionsCache);
    await logout(state.registries, runner);
    if (state.builder) {
      const r = await runner.docker(['buildx', 'rm', '--force', state.builder], { allowFailure: true });
      if (r.exitCode === 0) core.info(`Removed builder ${state.builder}`);
      else core.warning(`Could not remove builder ${state.builder}: ${r.stderr.trim()}`);
    }
  } catch (e) {
    core.warning(`Post step: ${(e as Error).message}`);
  } finally {
    removeDockerConfig(state.dockerConfig);
    core.info('Removed the temporary Docker config');
  }
}
