// Every secret an input carries is registered for masking before anything is logged, so the
// runner replaces it in every log line, error and summary: registry passwords (and the base64
// user:password a Docker config stores), the cosign key and its password, build secret values
// (also a secret-envs variable's value, and each line of a multi-line value), the go-private token,
// the github-token of attest: github; and what the files of secret-files and ssh key paths hold
// (buildx reads them, but a RUN step that prints one would put it in the log).
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import * as core from '@actions/core';
import type { BuildSecretsInput, Inputs } from '../plan/types.js';

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

/**
 * The contents of each secret-files file, and each line of each ssh key file (an `id=path[,path]`
 * entry; a socket is not read), as masks. A file that is not text (a NUL byte) or over 1 MiB is
 * left unread. Paths are relative to the workspace, as the inputs give them.
 */
export function maskSecretFiles(s: BuildSecretsInput, workspace: string): void {
  for (const f of s.files) maskValue(smallText(resolve(workspace, f.path)).replace(/\r?\n$/, ''));
  for (const entry of s.ssh) {
    const paths = entry.includes('=') ? entry.slice(entry.indexOf('=') + 1).split(',') : [];
    for (const p of paths) {
      for (const line of smallText(resolve(workspace, p))
        .split('\n')
        .map((l) => l.trim())) {
        if (line.length >= 4 && !line.startsWith('-----')) core.setSecret(line);
      }
    }
  }
}

function smallText(path: string): string {
  try {
    const st = statSync(path);
    if (!st.isFile() || st.size > 1024 * 1024) return '';
    const text = readFileSync(path, 'utf8');
    return text.includes('\0') ? '' : text;
  } catch {
    return '';
  }
}

function maskValue(v: string): void {
  if (v.trim() === '') return;
  core.setSecret(v);
  const lines = v.split('\n').map((l) => l.trim());
  // Each line too, but not a PEM armor line (-----BEGIN …-----), which every certificate holds.
  if (lines.length > 1) for (const l of lines) if (l.length >= 4 && !l.startsWith('-----')) core.setSecret(l);
}
