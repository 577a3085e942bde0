// A Docker config directory of the action's own, so credentials never land in the runner user's
// ~/.docker. It still finds the CLI plugins and buildx builders the workflow set up before it.
import { existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';

export interface DockerEnv {
  dir: string;
  env: Record<string, string>;
}

export function createDockerConfig(baseEnv: NodeJS.ProcessEnv): DockerEnv {
  const userConfig = baseEnv.DOCKER_CONFIG || join(baseEnv.HOME || homedir(), '.docker');
  const dir = mkdtempSync(join(baseEnv.RUNNER_TEMP || tmpdir(), 'go-docker-publish-'));
  writeFileSync(join(dir, 'config.json'), '{}\n', { mode: 0o600 });
  const plugins = join(userConfig, 'cli-plugins');
  if (existsSync(plugins)) symlinkSync(plugins, join(dir, 'cli-plugins'));
  return { dir, env: dockerEnv(dir, baseEnv) };
}

/** The environment of every docker command: the action's config, the user's buildx builders. */
export function dockerEnv(dir: string, baseEnv: NodeJS.ProcessEnv): Record<string, string> {
  const userConfig = baseEnv.DOCKER_CONFIG || join(baseEnv.HOME || homedir(), '.docker');
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(baseEnv)) if (v !== undefined) env[k] = v;
  env.DOCKER_CONFIG = dir;
  env.BUILDX_CONFIG = baseEnv.BUILDX_CONFIG || join(userConfig, 'buildx');
  return env;
}

export function removeDockerConfig(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
