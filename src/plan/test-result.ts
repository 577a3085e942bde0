// Pure: the smoke-test attestation of one image, an in-toto test-result predicate
// (https://in-toto.io/attestation/test-result/v0.1) made from what its smoke tests did: per tested
// platform what ran (the command given, or the image's own), what it waited for and why it
// passed (exit code, HEALTHCHECK, HTTP answer, `expect`), the image ID that ran and the digest of
// that platform's manifest in the registry; the workflow run as the test's configuration source.
// Also the statement's subjects and the cosign command that attests it. No environment value of
// the smoke test is ever in it (they may be secrets): only their names.
import { createHash } from 'node:crypto';
import { isLoopbackRegistry, KEY_ENV } from './sign.js';
import { waitsFor, type EnabledSmoke } from './smoke.js';
import type { SignSpec, SmokeSpec } from './types.js';

export const TEST_RESULT_TYPE = 'https://in-toto.io/attestation/test-result/v0.1';

/** What one platform's smoke test showed (run/smoke.ts SmokeResult, or a platform run's hand-off record). */
export interface SmokeEvidence {
  platform: string;
  imageId?: string;
  exitCode?: number;
  passedBy?: string;
  health?: string;
}

/** A tested platform with the digest of its manifest in the pushed index. */
export interface TestedPlatform extends SmokeEvidence {
  manifest: string;
}

/** An in-toto ResourceDescriptor, as far as this predicate uses it. */
export interface ResourceDescriptor {
  name: string;
  uri?: string;
  digest?: Record<string, string>;
  annotations?: Record<string, unknown>;
}

export interface TestResultPredicate {
  result: 'PASSED';
  configuration: ResourceDescriptor[];
  url: string;
  passedTests: string[];
  warnedTests: string[];
  failedTests: string[];
}

/** The workflow run as GitHub links it: GITHUB_SERVER_URL/REPO/actions/runs/ID/attempts/N. */
export function runUrl(run: { serverUrl: string; repository: string; runId: string; runAttempt: string }): string {
  return `${run.serverUrl}/${run.repository}/actions/runs/${run.runId}/attempts/${run.runAttempt || '1'}`;
}

const hex = (digest: string): string => digest.replace(/^sha256:/, '');

/** How the smoke test was run, for the attestation: the command and what it waited for, never an env value. */
function howRun(smoke: EnabledSmoke): Record<string, unknown> {
  const own = smoke.args.length === 0 && smoke.entrypoint === undefined;
  const w = smoke.wait;
  return {
    command: own
      ? "the image's own (its ENTRYPOINT and CMD)"
      : [...(smoke.entrypoint === undefined ? [] : [smoke.entrypoint]), ...smoke.args],
    ...(smoke.entrypoint === undefined ? {} : { entrypoint: smoke.entrypoint }),
    ...(Object.keys(smoke.env).length ? { envNames: Object.keys(smoke.env).sort() } : {}),
    waitedFor: waitsFor(smoke),
    ...(w.kind === 'http' ? { http: { port: w.port, path: w.path, status: w.status } } : {}),
    ...(w.kind === 'up' ? { upSeconds: w.seconds } : {}),
    ...(smoke.expect === undefined ? {} : { expect: smoke.expect }),
    timeoutSeconds: smoke.timeoutSeconds
  };
}

/**
 * The predicate for an image whose smoke tests passed on `tested` (each with its manifest digest);
 * undefined when there is nothing PASSED to say: smoke: false, or no platform tested.
 */
export function testResultPredicate(smoke: SmokeSpec, tested: TestedPlatform[], url: string): TestResultPredicate | undefined {
  if (!smoke.enabled || tested.length === 0) return undefined;
  const how = howRun(smoke);
  const platforms = tested.map((t): ResourceDescriptor => ({
    name: t.platform,
    digest: { sha256: hex(t.manifest) },
    annotations: {
      manifest: t.manifest,
      ...(t.imageId === undefined ? {} : { imageId: t.imageId }),
      ...how,
      passedBy: t.passedBy ?? 'passed',
      ...(t.exitCode === undefined ? {} : { exitCode: t.exitCode }),
      ...(t.health === undefined ? {} : { healthcheck: t.health })
    }
  }));
  return {
    result: 'PASSED',
    configuration: [{ name: 'workflow run', uri: url }, ...platforms],
    url,
    passedTests: tested.map((t) => `${t.platform}: ${t.passedBy ?? 'passed'}`),
    warnedTests: [],
    failedTests: []
  };
}

/** The digests a smoke-test statement is about: the index the tags name, and each tested platform's manifest. */
export function testedDigests(index: string, tested: TestedPlatform[]): string[] {
  return [index, ...tested.map((t) => t.manifest).filter((d) => d !== index)];
}

/** in-toto subjects for REPOSITORY and these digests (as @actions/attest takes them). */
export function subjectsOf(repository: string, digests: string[]): { name: string; digest: { sha256: string } }[] {
  return digests.map((d) => ({ name: repository, digest: { sha256: hex(d) } }));
}

/**
 * `cosign attest` of the predicate file on REPO@DIGEST, in the sign mode (the key through the
 * environment only). cosign 3 makes a statement with one subject, the digest it attests.
 */
export function cosignAttestArgs(
  ref: string,
  spec: Exclude<SignSpec, { mode: 'false' }>,
  predicateFile: string,
  signingConfig?: string
): string[] {
  const a = ['attest', '--yes'];
  if (spec.mode === 'key') a.push(`--key=env://${KEY_ENV}`);
  if (signingConfig) a.push(`--signing-config=${signingConfig}`);
  a.push(`--type=${TEST_RESULT_TYPE}`, `--predicate=${predicateFile}`);
  if (isLoopbackRegistry(ref)) a.push('--allow-http-registry');
  a.push(ref);
  return a;
}

/** A file name for an image's predicate (the image name may hold any reference character). */
export function predicateFileName(image: string): string {
  return `test-result-${createHash('sha256').update(image).digest('hex').slice(0, 12)}.json`;
}
