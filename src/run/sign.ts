// Signing, after every tag is created: each image's index digest (never a tag) is signed with
// cosign in every repository it was pushed to, keyless (the workflow's OIDC token: the certificate
// names this repository's workflow) or with a key from a secret. A failure fails the step and says
// that the tags are already pushed, unsigned. What signing needs is checked before anything runs.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as core from '@actions/core';
import { cosignEnv, cosignSignArgs, cosignVersionArgs, NO_TLOG_SIGNING_CONFIG } from '../plan/sign.js';
import { verifyCommand } from '../plan/verify.js';
import type { Plan } from '../plan/types.js';
import { withRetry } from './retry.js';
import type { Runner } from './runner.js';

export interface SignRun {
  serverUrl: string; // GITHUB_SERVER_URL
  workflowRef: string; // GITHUB_WORKFLOW_REF
  /** GITHUB_REPOSITORY, GITHUB_RUN_ID, GITHUB_RUN_ATTEMPT: the run the smoke-test attestation links to. */
  repository?: string;
  runId?: string;
  runAttempt?: string;
}

/** The index digest signed, and per repository the command that verifies it. */
export interface Signature {
  digest: string;
  verify: string[];
}

/**
 * sign: what signing needs, checked before anything runs: the cosign CLI, and for keyless the
 * workflow's OIDC token (permissions: id-token: write) and GITHUB_WORKFLOW_REF. A platform run
 * never signs (the merge job signs the index).
 */
export async function checkSigningPossible(plan: Plan, env: NodeJS.ProcessEnv, runner: Runner): Promise<void> {
  if (plan.sign.mode === 'false') return;
  if (plan.mode === 'platform') {
    core.info(`sign: ${plan.sign.mode}: a platform run signs nothing; the merge job signs each image's index`);
    return;
  }
  if (plan.sign.mode === 'keyless') {
    const missing = ['ACTIONS_ID_TOKEN_REQUEST_URL', 'ACTIONS_ID_TOKEN_REQUEST_TOKEN', 'GITHUB_WORKFLOW_REF'].filter((v) => !env[v]);
    if (missing.length > 0) {
      throw new Error(
        `Input "sign": "keyless" is not valid here. Expected a job with "permissions: id-token: write" on GitHub Actions (${missing.join(', ')} not set): the signing certificate is issued for the workflow's OIDC token.`
      );
    }
  }
  const found = await runner.cosign(cosignVersionArgs(), { silent: true, allowFailure: true }).catch(() => undefined);
  if (!found || found.exitCode !== 0) {
    throw new Error(
      `Input "sign": "${plan.sign.mode}" is not valid here. Expected the cosign CLI on PATH (add "- uses: sigstore/cosign-installer@v3" before this step): cosign was not found.`
    );
  }
}

/** Signs each tagged image (`tagged[i]` for `plan.images[i]`: its tags and index digest); returns its signature, or undefined when it has no tag. */
export async function signImages(
  plan: Plan,
  tagged: { tags: string[]; digest: string }[],
  runner: Runner,
  tmp: string,
  run: SignRun,
  pushedRefs: readonly string[]
): Promise<(Signature | undefined)[]> {
  const spec = plan.sign;
  if (spec.mode === 'false') return [];
  let signingConfig: string | undefined;
  if (spec.mode === 'key' && !spec.transparencyLog) {
    signingConfig = join(tmp, 'signing-config.json');
    writeFileSync(signingConfig, JSON.stringify(NO_TLOG_SIGNING_CONFIG));
  }
  const out: (Signature | undefined)[] = [];
  for (const [i, img] of plan.images.entries()) {
    const t = tagged[i];
    if (!t || t.tags.length === 0) {
      out.push(undefined);
      continue;
    }
    const unsigned = (why: string): Error =>
      new Error(
        `Signing ${img.name} failed: ${why}. Its tags are already pushed, unsigned (the pushed-tags output lists every pushed tag): ${pushedRefs.join(', ')}.`
      );
    if (!t.digest) throw unsigned('its index digest could not be read back from the registry, and only a digest is ever signed');
    const verify: string[] = [];
    for (const repo of img.repositories) {
      if (!t.tags.some((tag) => tag.startsWith(`${repo}:`))) continue;
      const ref = `${repo}@${t.digest}`;
      try {
        await withRetry(`Signing ${ref}`, () =>
          runner.cosign(cosignSignArgs(ref, spec, signingConfig), { env: cosignEnv(spec), silent: true })
        );
      } catch (e) {
        throw unsigned((e as Error).message.split('\n').slice(0, 6).join(' '));
      }
      core.info(`Signed ${ref} (${spec.mode === 'key' ? 'with the key' : 'keyless, as this workflow'})`);
      verify.push(verifyCommand(ref, spec, run));
    }
    out.push({ digest: t.digest, verify });
  }
  return out;
}
