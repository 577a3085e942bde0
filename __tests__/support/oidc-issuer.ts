// A stand-in for GitHub's OIDC token service as a job sees it: the runner's token endpoint
// (ACTIONS_ID_TOKEN_REQUEST_URL + `&audience=…`, `Authorization: Bearer <ACTIONS_ID_TOKEN_REQUEST_TOKEN>`,
// answering `{"value": "<JWT>"}`; what @actions/core getIDToken, sigstore-js CIContextProvider and
// cosign's github-actions provider call), and the issuer's discovery document and JWKS
// (`/.well-known/openid-configuration`, `/.well-known/jwks`; what @actions/attest fetches to check
// the token it builds the SLSA provenance from). Tokens are RS256 JWTs with the claims a workflow
// job's token carries, for a workflow the test describes; `iss` is GitHub's issuer by default.
import { createPublicKey, createSign, createVerify, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { json, listen, type LoopbackServer } from './loopback-server.js';

/** What `iss` says in a token of a GitHub-hosted job. */
export const GITHUB_ACTIONS_ISSUER = 'https://token.actions.githubusercontent.com';

/** The workflow run a token is minted for. */
export interface WorkflowRun {
  /** owner/repo */
  repository: string;
  /** The workflow file, e.g. `.github/workflows/release.yml`. */
  workflowPath: string;
  /** e.g. `refs/tags/v1` */
  ref: string;
  sha: string;
  eventName?: string;
  runId?: string;
  runAttempt?: string;
  runnerEnvironment?: 'github-hosted' | 'self-hosted';
  visibility?: 'public' | 'private' | 'internal';
  /** The issuer the token names (`iss`). */
  issuer?: string;
}

/** `owner/repo/.github/workflows/x.yml@refs/…`: job_workflow_ref and workflow_ref (no reusable workflow). */
export function workflowRef(run: WorkflowRun): string {
  return `${run.repository}/${run.workflowPath}@${run.ref}`;
}

/** The claims of a job's token as GitHub mints them (docs.github.com, "About security hardening with OpenID Connect"). */
export function workflowClaims(run: WorkflowRun, audience: string, now = Math.floor(Date.now() / 1000)): Record<string, unknown> {
  const [owner = '', name = ''] = run.repository.split('/');
  return {
    jti: randomUUID(),
    sub: `repo:${run.repository}:ref:${run.ref}`,
    aud: audience,
    ref: run.ref,
    sha: run.sha,
    repository: run.repository,
    repository_owner: owner,
    repository_owner_id: '1001',
    repository_id: '2002',
    repository_visibility: run.visibility ?? 'public',
    run_id: run.runId ?? '4242',
    run_number: '7',
    run_attempt: run.runAttempt ?? '1',
    runner_environment: run.runnerEnvironment ?? 'github-hosted',
    actor: owner,
    actor_id: '1001',
    workflow: name,
    head_ref: '',
    base_ref: '',
    event_name: run.eventName ?? 'release',
    ref_type: run.ref.startsWith('refs/tags/') ? 'tag' : 'branch',
    ref_protected: 'false',
    workflow_ref: workflowRef(run),
    workflow_sha: run.sha,
    job_workflow_ref: workflowRef(run),
    job_workflow_sha: run.sha,
    iss: run.issuer ?? GITHUB_ACTIONS_ISSUER,
    nbf: now - 5,
    iat: now,
    exp: now + 300
  };
}

const b64url = (b: Buffer | string): string => Buffer.from(b).toString('base64url');

export function signJwt(claims: Record<string, unknown>, key: KeyObject, kid: string): string {
  const head = `${b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid }))}.${b64url(JSON.stringify(claims))}`;
  return `${head}.${createSign('RSA-SHA256').update(head).sign(key).toString('base64url')}`;
}

/** The claims of a JWT this issuer signed; throws when the signature, `exp` or `nbf` is wrong. */
export function verifyJwt(token: string, key: KeyObject, now = Math.floor(Date.now() / 1000)): Record<string, unknown> {
  const [h, p, s] = token.split('.');
  if (!h || !p || !s) throw new Error('not a JWT');
  if (!createVerify('RSA-SHA256').update(`${h}.${p}`).verify(key, Buffer.from(s, 'base64url'))) throw new Error('bad signature');
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
  if (typeof claims.exp !== 'number' || claims.exp < now) throw new Error('token expired');
  if (typeof claims.nbf === 'number' && claims.nbf > now + 60) throw new Error('token not yet valid');
  return claims;
}

export interface OidcIssuer {
  server: LoopbackServer;
  /** ACTIONS_ID_TOKEN_REQUEST_URL (has a query: callers append `&audience=…`). */
  requestUrl: string;
  /** ACTIONS_ID_TOKEN_REQUEST_TOKEN */
  requestToken: string;
  publicKey: KeyObject;
  /** A token for `audience` now, as the endpoint would answer (for `--identity-token`). */
  mint(audience: string): string;
  /** Audiences asked for at the token endpoint, in order. */
  requests: string[];
}

export async function startOidcIssuer(run: WorkflowRun): Promise<OidcIssuer> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = randomUUID();
  const requestToken = `gdp-request-${randomUUID()}`;
  const issuer = run.issuer ?? GITHUB_ACTIONS_ISSUER;
  const requests: string[] = [];
  const mint = (audience: string): string => signJwt(workflowClaims(run, audience), privateKey, kid);
  const server = await listen((req) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (req.method === 'GET' && url.pathname === '/idtoken') {
      const auth = /^bearer (.+)$/i.exec(req.headers.authorization ?? '');
      if (auth?.[1] !== requestToken) return json(401, { message: 'Bad credentials' });
      const audience = url.searchParams.get('audience') ?? `https://github.com/${run.repository.split('/')[0]}`;
      requests.push(audience);
      return json(200, { count: 1, value: mint(audience) });
    }
    if (req.method === 'GET' && url.pathname === '/.well-known/openid-configuration') {
      return json(200, {
        issuer,
        jwks_uri: `${issuer}/.well-known/jwks`,
        subject_types_supported: ['public', 'pairwise'],
        response_types_supported: ['id_token'],
        id_token_signing_alg_values_supported: ['RS256'],
        scopes_supported: ['openid']
      });
    }
    if (req.method === 'GET' && url.pathname === '/.well-known/jwks') {
      return json(200, { keys: [{ ...createPublicKey(privateKey).export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' }] });
    }
    return json(404, { message: 'Not Found' });
  });
  return { server, requestUrl: `${server.url}/idtoken?api-version=2.0`, requestToken, publicKey, mint, requests };
}
