// Registry logins: the password reaches docker only on stdin (it is masked before anything is
// logged: masks.ts), into the action's own Docker config; post logs out.
import * as core from '@actions/core';
import { loginArgs, logoutArgs } from '../plan/commands/registry.js';
import { credentialKeys, hasCredentials, type CredentialConfig } from '../plan/docker-config.js';
import { registryOf } from '../plan/reference.js';
import type { Plan, RegistryLogin } from '../plan/types.js';
import { withRetry } from './retry.js';
import type { Runner } from './runner.js';

export async function login(registries: RegistryLogin[], runner: Runner, onLoggedIn: (registry: string) => void): Promise<void> {
  for (const r of registries) {
    core.info(`Logging in to ${r.registry} as ${r.username}`);
    await withRetry(`docker login ${r.registry}`, () => runner.docker(loginArgs(r.registry, r.username), { input: r.password }));
    onLoggedIn(r.registry);
  }
}

export async function logout(registries: string[], runner: Runner): Promise<void> {
  for (const r of registries) {
    const res = await runner.docker(logoutArgs(r), { allowFailure: true });
    if (res.exitCode !== 0) core.warning(`docker logout ${r} failed: ${res.stderr.trim()}`);
  }
}

/**
 * Before anything runs: a registry the run pushes to for which neither an earlier login of the
 * workflow nor the action's inputs give credentials gets a notice; the push itself says clearly
 * when the registry refuses (plan/auth-failure.ts). Not an error: some registries take anonymous
 * pushes, and a credential helper decides only when it is asked.
 */
export function noteMissingCredentials(plan: Plan, config: CredentialConfig): void {
  if (!plan.push) return;
  const own = new Set(plan.registries.flatMap((r) => credentialKeys(r.registry)));
  const hosts = [...new Set(plan.images.flatMap((i) => i.repositories.map(registryOf)))];
  for (const host of hosts) {
    if (credentialKeys(host).some((k) => own.has(k)) || hasCredentials(config, host)) continue;
    core.notice(
      `No credentials for ${host}: neither the workflow's Docker config (an earlier login step) nor the "registries"/"username" inputs have any. The push works only if ${host} takes anonymous pushes.`
    );
  }
}
