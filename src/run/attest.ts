// Attestations, after signing: per image, the smoke-test statement (plan/test-result.ts) about the
// index digest and each tested platform's manifest digest, read from the pushed index. With a sign
// mode, cosign attests it in every repository the image was pushed to, one attestation per digest
// (cosign 3 gives a statement one subject: the digest it attests); with attest: github, GitHub's
// artifact attestations carry it (all digests as subjects) and the SLSA build provenance of the
// index. What attesting needs is checked before anything runs. A failure fails the step and says
// that the tags are already pushed, without it.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as core from '@actions/core';
import { platformManifest, type IndexDoc } from '../plan/index-manifest.js';
import { NO_TLOG_SIGNING_CONFIG, cosignEnv } from '../plan/sign.js';
import {
  cosignAttestArgs,
  predicateFileName,
  runUrl,
  TEST_RESULT_TYPE,
  testedDigests,
  testResultPredicate,
  type SmokeEvidence,
  type TestedPlatform
} from '../plan/test-result.js';
import type { Plan } from '../plan/types.js';
import { commandLine, cosignVerifyAttestationArgs, ghVerifyCommands, SLSA_PROVENANCE_TYPE, verifierFor } from '../plan/verify.js';
import type { GithubAttester } from './github-attest.js';
import { readRaw } from './registry.js';
import { withRetry } from './retry.js';
import type { Runner } from './runner.js';
import type { SignRun } from './sign.js';

/** One smoke result as the attestation takes it: publish runs give their SmokeResults, the merge the platform runs' records. */
export type ImageSmoke = SmokeEvidence & { image: string; status: string };

/** An attestation the run made for an image, and per repository and digest the command that verifies it. */
export interface Attested {
  predicateType: string;
  by: 'cosign' | 'github';
  digests: string[];
  verify: string[];
}

/**
 * attest: github and the smoke-test attestation: what they need, checked before anything runs.
 * GitHub's attestations need the workflow's OIDC token (id-token: write) and a token for the
 * attestations API (attestations: write); a platform run attests nothing.
 */
export function checkAttestingPossible(plan: Plan, env: NodeJS.ProcessEnv): void {
  if (!plan.attest.github || plan.mode === 'platform') return;
  const missing = ['ACTIONS_ID_TOKEN_REQUEST_URL', 'ACTIONS_ID_TOKEN_REQUEST_TOKEN', 'GITHUB_WORKFLOW_REF'].filter((v) => !env[v]);
  if (missing.length > 0) {
    throw new Error(
      `Input "attest": "github" is not valid here. Expected a job with "permissions: id-token: write" on GitHub Actions (${missing.join(', ')} not set): GitHub's artifact attestations are signed with the workflow's OIDC token.`
    );
  }
  if (plan.attest.github.token === '') {
    throw new Error(
      `Input "attest": "github" is not valid here. Expected a token with "permissions: attestations: write" in "github-token" (it is empty): GitHub's attestations API stores each attestation.`
    );
  }
}

/** Per tested platform of an image, its smoke evidence and the digest of its manifest in the pushed index. */
async function testedPlatforms(ref: string, mine: ImageSmoke[], runner: Runner, dryRun: boolean): Promise<TestedPlatform[]> {
  if (mine.length === 0) return [];
  const index = await readRaw<IndexDoc>(ref, runner);
  return mine.map((s) => {
    const manifest = platformManifest(index, s.platform)?.digest ?? (dryRun ? `<${s.platform} manifest digest>` : '');
    if (!manifest) throw new Error(`the pushed index ${ref} has no ${s.platform} manifest`);
    return { ...s, manifest };
  });
}

/**
 * Attests each tagged image (`tagged[i]` for `plan.images[i]`); returns, per image, what it made.
 * `smoke` is every smoke result of the run (passed ones are attested).
 */
export async function attestImages(
  plan: Plan,
  tagged: { tags: string[]; digest: string }[],
  smoke: ImageSmoke[],
  runner: Runner,
  o: { tmp: string; run: SignRun; pushedRefs: readonly string[]; github?: GithubAttester; dryRun?: boolean }
): Promise<Attested[][]> {
  const spec = plan.sign;
  if (!plan.attest.smoke && !plan.attest.github) return [];
  const url = runUrl({
    serverUrl: o.run.serverUrl,
    repository: o.run.repository ?? '',
    runId: o.run.runId ?? '',
    runAttempt: o.run.runAttempt ?? '1'
  });
  let signingConfig: string | undefined;
  if (spec.mode === 'key' && !spec.transparencyLog) {
    signingConfig = join(o.tmp, 'signing-config.json');
    writeFileSync(signingConfig, JSON.stringify(NO_TLOG_SIGNING_CONFIG));
  }
  const out: Attested[][] = [];
  for (const [i, img] of plan.images.entries()) {
    const t = tagged[i];
    const made: Attested[] = [];
    out.push(made);
    if (!t || t.tags.length === 0 || !t.digest) continue;
    const failed = (what: string, why: string): Error =>
      new Error(
        `${what} of ${img.name} failed: ${why}. Its tags are already pushed, without it (the pushed-tags output lists every pushed tag): ${o.pushedRefs.join(', ')}.`
      );
    const repos = img.repositories.filter((r) => t.tags.some((tag) => tag.startsWith(`${r}:`)));
    const passed = smoke.filter((s) => s.image === img.name && s.status === 'passed');
    let tested: TestedPlatform[];
    try {
      tested = await testedPlatforms(`${img.repositories[0] ?? img.name}@${t.digest}`, passed, runner, o.dryRun ?? false);
    } catch (e) {
      throw failed('The smoke-test attestation', (e as Error).message.split('\n')[0] ?? '');
    }
    const predicate = plan.attest.smoke ? testResultPredicate(img.smoke, tested, url) : undefined;
    if (plan.attest.smoke && !predicate) {
      core.notice(
        `${img.name}: no smoke-test attestation: ${img.smoke.enabled ? 'no platform was smoke-tested' : 'smoke: false'}, so nothing PASSED is attested`
      );
    }
    const digests = testedDigests(t.digest, tested);

    if (predicate && spec.mode !== 'false') {
      const file = join(o.tmp, predicateFileName(img.name));
      writeFileSync(file, JSON.stringify(predicate));
      const verifier = verifierFor(spec, o.run);
      const verify: string[] = [];
      for (const repo of repos) {
        for (const d of digests) {
          const ref = `${repo}@${d}`;
          try {
            await withRetry(`Attesting ${ref}`, () =>
              runner.cosign(cosignAttestArgs(ref, spec, file, signingConfig), { env: cosignEnv(spec), silent: true })
            );
          } catch (e) {
            throw failed('The smoke-test attestation', (e as Error).message.split('\n').slice(0, 6).join(' '));
          }
          core.info(`Attested the smoke tests of ${ref} (${TEST_RESULT_TYPE}, ${spec.mode === 'key' ? 'with the key' : 'keyless'})`);
          verify.push(commandLine(cosignVerifyAttestationArgs(ref, TEST_RESULT_TYPE, verifier)));
        }
      }
      made.push({ predicateType: TEST_RESULT_TYPE, by: 'cosign', digests, verify });
    }

    if (plan.attest.github && o.github) {
      const repository = o.run.repository ?? '';
      const provenance = { name: img.name, digests: [t.digest], repositories: repos, predicateType: SLSA_PROVENANCE_TYPE };
      const jobs = [provenance, ...(predicate ? [{ ...provenance, digests, predicateType: TEST_RESULT_TYPE, predicate }] : [])];
      for (const a of jobs) {
        try {
          await o.github.attest(a);
        } catch (e) {
          throw failed(`GitHub's ${a.predicateType} attestation`, (e as Error).message.split('\n')[0] ?? '');
        }
        core.info(
          `Attested ${img.name}@${t.digest} with GitHub's artifact attestations (${a.predicateType}), pushed beside it in ${repos.join(', ')}`
        );
        const verify = repos.flatMap((r) => a.digests.flatMap((d) => ghVerifyCommands(`${r}@${d}`, repository, [a.predicateType])));
        made.push({ predicateType: a.predicateType, by: 'github', digests: a.digests, verify });
      }
    }
  }
  return out;
}
