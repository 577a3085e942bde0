// Why a GitHub artifact attestation failed, in words that name what to set: the attestations
// API refusing the token (403: "permissions: attestations: write"), no OIDC token ("permissions:
// id-token: write"), else the failure as it is. Pure: run/github-attest.ts throws what it returns.
/** `step` is what was being done (attesting a digest, pushing a bundle beside it). */
export function explainAttestFailure(e: unknown, step: string): Error {
  const m = (e as Error).message ?? String(e);
  const cause = (e as { cause?: { message?: string } }).cause?.message;
  const text = cause ? `${m}: ${cause}` : m;
  if (/Resource not accessible by integration|403/.test(text))
    return new Error(`${step}: the attestations API refused the token (${text}). Give the job "permissions: attestations: write".`);
  if (/id[- ]token|ACTIONS_ID_TOKEN/i.test(text)) return new Error(`${step}: ${text}. Give the job "permissions: id-token: write".`);
  return new Error(`${step}: ${text}`);
}
