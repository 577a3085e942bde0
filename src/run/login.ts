// Registry logins: secrets are registered for masking before anything is logged, and the
// password reaches docker only on stdin.
import * as core from '@actions/core';
import { loginArgs, logoutArgs } from '../plan/commands/registry.js';
import type { RegistryLogin } from '../plan/types.js';
import { withRetry } from './retry.js';
import type { Runner } from './runner.js';

export function maskCredentials(registries: RegistryLogin[]): void {
  for (const r of registries) {
    core.setSecret(r.password);
    // The form it takes in a Docker config file.
    core.setSecret(Buffer.from(`${r.username}:${r.password}`).toString('base64'));
  }
}

/** The cosign key (each line of its body, as a log would show it) and its password. */
export function maskSigningKey(key: string, password: string): void {
  if (password !== '') core.setSecret(password);
  for (const line of key.split('\n').map((l) => l.trim())) {
    if (line !== '' && !line.startsWith('-----')) core.setSecret(line);
  }
}

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
