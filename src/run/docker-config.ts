// A Docker config directory of the action's own (under RUNNER_TEMP, removed by post): it starts
// from the workflow's credentials (plan/docker-config.ts), takes the action's own logins, and
// still finds the CLI plugins and buildx builders the workflow set up before it. The user's
// config file is read, never written.
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as core from '@actions/core';
import { actionDockerConfig, type CredentialConfig } from '../plan/docker-config.js';

export interface DockerEnv {
  dir: string;
  env: Record<string, string>;
  /** What the action's config holds before its own logins. */
  config: CredentialConfig;
}

/** The workflow's Docker config directory: $DOCKER_CONFIG, else ~/.docker. */
export function userConfigDir(baseEnv: NodeJS.ProcessEnv): string {
  return baseEnv.DOCKER_CONFIG || join(baseEnv.HOME || homedir(), '.docker');
}

/** The workflow's config.json, parsed; {} when there is none or it cannot be read (with a warning). */
export function readUserConfig(baseEnv: NodeJS.ProcessEnv): unknown {
  const file = join(userConfigDir(baseEnv), 'config.json');
  if (!existsSync(file)) return {};
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as unknown;
  } catch (e) {
    core.warning(`The workflow's Docker config ${file} could not be read, so its logins are not used: ${(e as Error).message}`);
    return {};
  }
}

export function createDockerConfig(baseEnv: NodeJS.ProcessEnv, actionLogins: string[]): DockerEnv {
  const userConfig = userConfigDir(baseEnv);
  const dir = mkdtempSync(join(baseEnv.RUNNER_TEMP || tmpdir(), 'go-docker-publish-'));
  const config = actionDockerConfig(readUserConfig(baseEnv), actionLogins);
  writeFileSync(join(dir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  const plugins = join(userConfig, 'cli-plugins');
  if (existsSync(plugins)) symlinkSync(plugins, join(dir, 'cli-plugins'));
  return { dir, env: dockerEnv(dir, baseEnv), config };
}

/** The environment of every docker command: the action's config, the user's buildx builders. */
export function dockerEnv(dir: string, baseEnv: NodeJS.ProcessEnv): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(baseEnv)) if (v !== undefined) env[k] = v;
  env.DOCKER_CONFIG = dir;
  env.BUILDX_CONFIG = baseEnv.BUILDX_CONFIG || join(userConfigDir(baseEnv), 'buildx');
  return env;
}

export function removeDockerConfig(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
