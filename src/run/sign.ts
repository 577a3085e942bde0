// Signing, after every tag is created: each image's index digest (never a tag) is signed with
// cosign in every repository it was pushed to, keyless (the workflow's OIDC token: the certificate
// names this repository's workflow) or with a key from a secret. A failure fails the step and says
// that the tags are already pushed, unsigned.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as core from '@actions/core';
import { cosignEnv, cosignSignArgs, NO_TLOG_SIGNING_CONFIG, verifyCommand } from '../plan/sign.js';
import type { Plan } from '../plan/types.js';
import type { ImageOutcome } from '../report.js';
import { withRetry } from './retry.js';
import type { Runner } from './runner.js';

export interface SignRun {
  serverUrl: string; // GITHUB_SERVER_URL
  workflowRef: string; // GITHUB_WORKFLOW_REF
}

export async function signImages(
  plan: Plan,
  outcomes: ImageOutcome[],
  runner: Runner,
  tmp: string,
  run: SignRun,
  pushedRefs: readonly string[]
): Promise<void> {
  const spec = plan.sign;
  if (spec.mode === 'false') return;
  let signingConfig: string | undefined;
  if (spec.mode === 'key' && !spec.transparencyLog) {
    signingConfig = join(tmp, 'signing-config.json');
    writeFileSync(signingConfig, JSON.stringify(NO_TLOG_SIGNING_CONFIG));
  }
  for (const [i, img] of plan.images.entries()) {
    const o = outcomes[i];
    if (!o || o.tags.length === 0) continue;
    const unsigned = (why: string): Error =>
      new Error(
        `Signing ${img.name} failed: ${why}. Its tags are already pushed, unsigned (the pushed-tags output lists every pushed tag): ${pushedRefs.join(', ')}.`
      );
    if (!o.digest) throw unsigned('its index digest could not be read back from the registry, and only a digest is ever signed');
    const verify: string[] = [];
    for (const repo of img.repositories) {
      if (!o.tags.some((t) => t.startsWith(`${repo}:`))) continue;
      const ref = `${repo}@${o.digest}`;
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
    o.signature = { digest: o.digest, verify };
  }
}
