// Read-back, after signing and attesting: each image's signature and attestations are verified
// from every repository it was pushed to, as a user would, with the key (its public half) or the
// workflow identity the run used: `cosign verify`, `cosign verify-attestation` (cosign finds them
// through the registry's referrers API, else the sha256-<hex> referrers tag). GitHub's artifact
// attestations are verified the same way on Sigstore's public-good instance; on GitHub's own
// (private repositories: its trust root is GitHub's, which cosign does not have) the read-back
// checks that the bundle is in the registry beside the digest. Where something is not found the
// step fails naming the registry and what, and says that the tags are already pushed, unsigned.
import { join } from 'node:path';
import * as core from '@actions/core';
import { registryOf } from '../plan/reference.js';
import { cosignEnv, GITHUB_OIDC_ISSUER } from '../plan/sign.js';
import type { Plan } from '../plan/types.js';
import {
  commandLine,
  cosignDownloadAttestationArgs,
  cosignPublicKeyArgs,
  cosignVerifyArgs,
  cosignVerifyAttestationArgs,
  hasStatementFor,
  verifierFor,
  workflowIdentity,
  type Verifier
} from '../plan/verify.js';
import type { Attested } from './attest.js';
import { isTransient, withRetry } from './retry.js';
import type { ExecResult, Runner } from './runner.js';
import type { SignRun } from './sign.js';

/** One check: its words, its cosign argv, and for a download what must be in it. */
interface Check {
  what: string;
  ref: string;
  args: string[];
  /** A download: a statement of this type about this digest must be among the bundles. */
  statement?: { type: string; digest: string };
}

/** The reason cosign gave, in one line. */
function reason(output: string): string {
  const lines = output.split('\n').map((l) => l.trim());
  return lines.find((l) => l.startsWith('Error:')) ?? lines.filter(Boolean).slice(-1)[0] ?? '(no output)';
}

/** The checks for one image in one repository. */
function checksFor(
  repo: string,
  digest: string,
  attested: Attested[],
  plan: Plan,
  cosignVerifier: Verifier | undefined,
  identity: Verifier
): Check[] {
  const checks: Check[] = [];
  if (cosignVerifier) {
    const ref = `${repo}@${digest}`;
    checks.push({ what: 'the signature', ref, args: cosignVerifyArgs(ref, cosignVerifier) });
  }
  for (const a of attested) {
    for (const d of a.digests) {
      const ref = `${repo}@${d}`;
      const what = `the ${a.by === 'github' ? 'GitHub artifact attestation' : 'attestation'} ${a.predicateType}`;
      if (a.by === 'cosign' && cosignVerifier)
        checks.push({ what, ref, args: cosignVerifyAttestationArgs(ref, a.predicateType, cosignVerifier) });
      else if (plan.attest.github && plan.attest.github.sigstore === 'public-good')
        checks.push({ what, ref, args: cosignVerifyAttestationArgs(ref, a.predicateType, identity) });
      else
        checks.push({
          what,
          ref,
          args: cosignDownloadAttestationArgs(ref, a.predicateType),
          statement: { type: a.predicateType, digest: d }
        });
    }
  }
  return checks;
}

export async function readBack(
  plan: Plan,
  tagged: { tags: string[]; digest: string }[],
  attested: Attested[][],
  runner: Runner,
  o: { tmp: string; run: SignRun; pushedRefs: readonly string[]; dryRun?: boolean }
): Promise<void> {
  const spec = plan.sign;
  if (spec.mode === 'false' && !attested.some((a) => a.length > 0)) return;
  let cosignVerifier: Verifier | undefined;
  if (spec.mode === 'key') {
    // The public half of the run's key, to verify as a user with cosign.pub does.
    const pub = join(o.tmp, 'cosign.pub');
    await runner.cosign(cosignPublicKeyArgs(pub), { env: cosignEnv(spec), silent: true });
    cosignVerifier = verifierFor(spec, o.run, pub);
  } else if (spec.mode === 'keyless') cosignVerifier = verifierFor(spec, o.run);
  const identity: Verifier = { kind: 'identity', identity: workflowIdentity(o.run), issuer: GITHUB_OIDC_ISSUER };

  for (const [i, img] of plan.images.entries()) {
    const t = tagged[i];
    if (!t || t.tags.length === 0 || !t.digest) continue;
    for (const repo of img.repositories.filter((r) => t.tags.some((tag) => tag.startsWith(`${r}:`)))) {
      const checks = checksFor(repo, t.digest, attested[i] ?? [], plan, cosignVerifier, identity);
      for (const c of checks) {
        const r = await verifyOnce(c, runner);
        if (o.dryRun) continue;
        const found = c.statement ? r.exitCode === 0 && hasStatementFor(r.stdout, c.statement.type, c.statement.digest) : r.exitCode === 0;
        if (!found) {
          const why = c.statement
            ? `no bundle of that type about ${c.statement.digest} is attached (${reason(`${r.stdout}${r.stderr}`)})`
            : reason(`${r.stdout}${r.stderr}`);
          throw new Error(
            `Reading back from ${registryOf(repo)} failed: ${c.what} of ${c.ref} was not found there (${commandLine(c.args)}: ${why}). ` +
              `Its tags are already pushed, unsigned as a user of ${registryOf(repo)} sees them (the pushed-tags output lists every pushed tag): ${o.pushedRefs.join(', ')}.`
          );
        }
      }
      core.info(
        `Read back from ${registryOf(repo)}: ${checks
          .map((c) => c.what)
          .filter((w, k, all) => all.indexOf(w) === k)
          .join(', ')} of ${repo}@${t.digest} verified${
          plan.attest.github && plan.attest.github.sigstore === 'github'
            ? " (GitHub's attestations: found; gh attestation verify checks them with GitHub's trust root)"
            : ''
        }`
      );
    }
  }
}

/** One check, retried while the registry answers with a transient fault; its last answer. */
async function verifyOnce(c: Check, runner: Runner): Promise<ExecResult> {
  try {
    return await withRetry(`Reading back ${c.ref}`, async () => {
      const x = await runner.cosign(c.args, { silent: true, allowFailure: true });
      // A clear answer (found or not) is returned; a transient fault is thrown, to be tried again.
      if (x.exitCode !== 0 && isTransient(`${x.stdout}${x.stderr}`)) throw new Error(`${x.stdout}${x.stderr}`);
      return x;
    });
  } catch (e) {
    return { exitCode: 1, stdout: '', stderr: (e as Error).message };
  }
}
