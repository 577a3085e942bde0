// Pure: how what a run signed and attested is checked, by the action's read-back and by a user.
// The cosign command lines (verify, verify-attestation, download attestation, public-key) with
// the identity or key the run used, the same lines a user is given (with cosign.pub for the key),
// and the `gh attestation verify` lines for GitHub's artifact attestations.
import { GITHUB_OIDC_ISSUER, isLoopbackRegistry, KEY_ENV } from './sign.js';
import type { SignSpec } from './types.js';

export const SLSA_PROVENANCE_TYPE = 'https://slsa.dev/provenance/v1';

/** Who must have signed: a key (its public half), or this repository's workflow as GitHub's OIDC issuer names it. */
export type Verifier = { kind: 'key'; publicKey: string; tlog: boolean } | { kind: 'identity'; identity: string; issuer: string };

/** What a keyless certificate of this run names: GITHUB_SERVER_URL/GITHUB_WORKFLOW_REF. */
export function workflowIdentity(run: { serverUrl: string; workflowRef: string }): string {
  return `${run.serverUrl}/${run.workflowRef}`;
}

export function verifierFor(
  spec: Exclude<SignSpec, { mode: 'false' }>,
  run: { serverUrl: string; workflowRef: string },
  publicKey = 'cosign.pub'
): Verifier {
  if (spec.mode === 'key') return { kind: 'key', publicKey, tlog: spec.transparencyLog };
  return { kind: 'identity', identity: workflowIdentity(run), issuer: GITHUB_OIDC_ISSUER };
}

function verifierFlags(v: Verifier): string[] {
  if (v.kind === 'key') return ['--key', v.publicKey, ...(v.tlog ? [] : ['--insecure-ignore-tlog'])];
  return [`--certificate-identity=${v.identity}`, `--certificate-oidc-issuer=${v.issuer}`];
}

const http = (ref: string): string[] => (isLoopbackRegistry(ref) ? ['--allow-http-registry'] : []);

/** `cosign verify` of the signature of REPO@DIGEST. */
export function cosignVerifyArgs(ref: string, v: Verifier): string[] {
  return ['verify', ...verifierFlags(v), ...http(ref), ref];
}

/** `cosign verify-attestation` of an attestation of this predicate type on REPO@DIGEST. */
export function cosignVerifyAttestationArgs(ref: string, type: string, v: Verifier): string[] {
  return ['verify-attestation', ...verifierFlags(v), `--type=${type}`, ...http(ref), ref];
}

/** `cosign download attestation`: the bundles of this predicate type attached to REPO@DIGEST, one JSON line each, unverified. */
export function cosignDownloadAttestationArgs(ref: string, type: string): string[] {
  return ['download', 'attestation', `--predicate-type=${type}`, ...http(ref), ref];
}

/** The public half of the signing key (sign: key), written where the read-back verifies with it. */
export function cosignPublicKeyArgs(outfile: string): string[] {
  return ['public-key', `--key=env://${KEY_ENV}`, `--outfile=${outfile}`];
}

/** A cosign argv as a user types it. */
export function commandLine(args: string[]): string {
  return ['cosign', ...args].join(' ');
}

/** What a user runs to check GitHub's artifact attestations of REPO@DIGEST, from the registry. */
export function ghVerifyCommands(ref: string, repository: string, types: string[]): string[] {
  return types.map(
    (t) =>
      `gh attestation verify oci://${ref} --repo ${repository} --bundle-from-oci${t === SLSA_PROVENANCE_TYPE ? '' : ` --predicate-type ${t}`}`
  );
}

/** The statement of a DSSE bundle (one line of `cosign download attestation`); undefined when it is not one. */
export function bundleStatement(line: string): { predicateType?: string; subject?: { digest?: Record<string, string> }[] } | undefined {
  try {
    const b = JSON.parse(line) as { dsseEnvelope?: { payload?: string } };
    if (!b.dsseEnvelope?.payload) return undefined;
    return JSON.parse(Buffer.from(b.dsseEnvelope.payload, 'base64').toString()) as ReturnType<typeof bundleStatement>;
  } catch {
    return undefined;
  }
}

/** Whether one of the downloaded bundles is a statement of this type about this digest. */
export function hasStatementFor(stdout: string, type: string, digest: string): boolean {
  const hex = digest.replace(/^sha256:/, '');
  return stdout
    .split('\n')
    .map(bundleStatement)
    .some((s) => s?.predicateType === type && (s.subject ?? []).some((x) => x.digest?.sha256 === hex));
}

/**
 * What a user runs to check the signature of `ref` (REPO@DIGEST). Keyless: the certificate must
 * name this repository's workflow (GITHUB_WORKFLOW_REF: owner/repo/.github/workflows/x.yml@ref)
 * and GitHub's issuer. The read-back runs the same line.
 */
export function verifyCommand(
  ref: string,
  spec: Exclude<SignSpec, { mode: 'false' }>,
  run: { serverUrl: string; workflowRef: string }
): string {
  return commandLine(cosignVerifyArgs(ref, verifierFor(spec, run)));
}
