// A registry that refuses the action's credentials (or has none from it), read from what buildx,
// BuildKit or the docker CLI printed, pure: which registry, which answer, and the error a user can
// act on — the two ways to give credentials — instead of a raw BuildKit line.
import { registryOf } from './reference.js';

export interface AuthFailure {
  registry: string;
  /** The registry's answer as printed: "401 Unauthorized", "403 Forbidden", "denied", … */
  answer: string;
}

const REFUSED: [RegExp, string][] = [
  [/\b401 Unauthorized\b/i, '401 Unauthorized'],
  [/\b403 Forbidden\b/i, '403 Forbidden'],
  [/\bunauthorized: [^\n]*/i, ''],
  [/\bdenied: [^\n]*/i, ''],
  [/\bno basic auth credentials\b/i, 'no basic auth credentials'],
  [/\bpull access denied\b[^\n]*/i, ''],
  [/\binsufficient_scope\b[^\n]*/i, '']
];

/** Where the refused request went: a URL's host, or the reference a push, pull or resolve named. */
const WHERE = [
  /\bhttps?:\/\/([^/\s"']+)\/v2\//i,
  /\bfailed to push ([^/\s"']+)\//i,
  /\bfailed to (?:resolve source metadata for|fetch [^\n]*? for|copy: [^\n]*? for) ([^/\s"']+)\//i,
  /\bpull access denied for ([^/\s"',]+)\//i
];

/** A reference's first part as the registry it names (registryOf: moby/buildkit is Docker Hub's), Docker Hub's API hosts as docker.io. */
function registryHost(first: string): string {
  return registryOf(`${first}/_`).replace(/^index\.docker\.io$|^registry-1\.docker\.io$/, 'docker.io');
}

/** The refusal in `output`, if the command failed because a registry refused it; `fallback` names the registry when the output does not. */
export function authFailure(output: string, fallback?: string): AuthFailure | undefined {
  let answer: string | undefined;
  for (const [re, name] of REFUSED) {
    const m = re.exec(output);
    if (m) {
      answer = name || m[0].trim();
      break;
    }
  }
  if (answer === undefined) return undefined;
  for (const re of WHERE) {
    const host = re.exec(output)?.[1];
    if (host) return { registry: registryHost(host), answer };
  }
  return fallback ? { registry: fallback, answer } : undefined;
}

/**
 * A failed command's error, told as a refusal when a registry refused it (`what` was refused; the
 * command's own message follows), else the error itself.
 */
export function explainRefusal(e: unknown, what: string, fallback?: string): unknown {
  const msg = e instanceof Error ? e.message : String(e);
  const refused = authFailure(msg, fallback);
  return refused ? new Error(`${authFailureMessage(refused, what)}\n${msg}`, { cause: e }) : e;
}

/** The error for a refusal: names the registry, what was refused, and the two ways to give credentials. */
export function authFailureMessage(f: AuthFailure, what: string): string {
  return (
    `Registry ${f.registry} refused ${what} (${f.answer}). Give the action credentials for ${f.registry} in one of two ways: ` +
    'a login step before this one (docker login, docker/login-action, aws-actions/amazon-ecr-login, gcloud auth configure-docker, azure/docker-login: ' +
    `the action uses the workflow's Docker config, its auths and credential helpers), or the "registries" input (or "username"/"password" with "registry: ${f.registry}").`
  );
}
