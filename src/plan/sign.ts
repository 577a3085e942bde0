// Pure: the cosign command lines that sign a pushed index digest (never a tag) and their
// environment. How a signature is verified is plan/verify.ts's.
import type { SignSpec } from './types.js';

/** GitHub's OIDC issuer: what a keyless signature's certificate names. */
export const GITHUB_OIDC_ISSUER = 'https://token.actions.githubusercontent.com';

/** The variable the private key reaches cosign through (`--key=env://…`): never the argv, never a file. */
export const KEY_ENV = 'GDP_COSIGN_KEY';

/** A signing config with no transparency log and no timestamp authority (transparency-log: false). */
export const NO_TLOG_SIGNING_CONFIG = {
  mediaType: 'application/vnd.dev.sigstore.signingconfig.v0.2+json',
  rekorTlogConfig: {},
  tsaConfig: {}
};

/** A registry docker itself talks plain HTTP to: loopback. cosign must be told. */
export function isLoopbackRegistry(ref: string): boolean {
  const host = ref.split('/')[0] ?? '';
  return /^(localhost|127(\.\d{1,3}){3}|\[::1\])(:\d+)?$/.test(host);
}

/** Whether cosign is on PATH (checked before a signing run starts). */
export function cosignVersionArgs(): string[] {
  return ['version', '--json'];
}

export function cosignSignArgs(ref: string, spec: Exclude<SignSpec, { mode: 'false' }>, signingConfig?: string): string[] {
  const a = ['sign', '--yes'];
  if (spec.mode === 'key') a.push(`--key=env://${KEY_ENV}`);
  if (signingConfig) a.push(`--signing-config=${signingConfig}`);
  if (isLoopbackRegistry(ref)) a.push('--allow-http-registry');
  a.push(ref);
  return a;
}

/** The environment cosign gets on top of the action's (which holds the registry logins). */
export function cosignEnv(spec: Exclude<SignSpec, { mode: 'false' }>): Record<string, string> {
  if (spec.mode === 'keyless') return {};
  return { [KEY_ENV]: spec.key, COSIGN_PASSWORD: spec.password };
}
