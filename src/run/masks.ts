// Every secret an input carries is registered for masking before anything is logged, so the
// runner replaces it in every log line, error and summary: registry passwords (and the base64
// user:password a Docker config stores), the cosign key and its password, build secret values
// (also a secret-envs variable's value, and each line of a multi-line value), the go-private token,
// the github-token of attest: github.
import * as core from '@actions/core';
import type { Inputs } from '../plan/types.js';

export function maskSecrets(inputs: Inputs, env: NodeJS.ProcessEnv): void {
  for (const r of inputs.registries) {
    core.setSecret(r.password);
    core.setSecret(Buffer.from(`${r.username}:${r.password}`).toString('base64'));
  }
  if (inputs.sign.mode === 'key') {
    if (inputs.sign.password !== '') core.setSecret(inputs.sign.password);
    // Each line of the key's body, as a log would show it.
    for (const line of inputs.sign.key.split('\n').map((l) => l.trim())) {
      if (line !== '' && !line.startsWith('-----')) core.setSecret(line);
    }
  }
  const values = [
    ...inputs.buildSecrets.secrets.map((s) => s.value),
    ...inputs.buildSecrets.envs.map((s) => env[s.env] ?? ''),
    inputs.goPrivate?.token ?? '',
    inputs.attest.token
  ];
  for (const v of values) maskValue(v);
}

function maskValue(v: string): void {
  if (v.trim() === '') return;
  core.setSecret(v);
  const lines = v.split('\n').map((l) => l.trim());
  if (lines.length > 1) for (const l of lines) if (l.length >= 4) core.setSecret(l);
}
