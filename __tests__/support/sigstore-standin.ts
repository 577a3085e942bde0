// A private Sigstore and GitHub's side of keyless signing, on loopback, for tests that sign for
// real without the internet: the runner's OIDC token endpoint (oidc-issuer.ts), Fulcio, Rekor and a
// TSA (sigstore-services.ts), the trusted root and signing config that point cosign at them
// (sigstore-trust.ts), GitHub's attestations API (attestations-api.ts), and an HTTPS proxy that
// answers for the Sigstore and GitHub hosts @actions/attest has built in (intercept-proxy.ts).
// `start()` gives the environment a job would have and the files cosign needs; `stop()` ends it all.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAttestationsApi, type ReceivedAttestation } from './attestations-api.js';
import { startInterceptProxy, type InterceptProxy } from './intercept-proxy.js';
import { GITHUB_ACTIONS_ISSUER, startOidcIssuer, verifyJwt, workflowRef, type OidcIssuer, type WorkflowRun } from './oidc-issuer.js';
import { startSigstoreServices, type ServiceCall, type SigstoreServices } from './sigstore-services.js';
import { signingConfig, trustedRoot, type Witnesses } from './sigstore-trust.js';
import { startTufRepo, type TufRepo } from './tuf-repo.js';
import type { LoopbackServer } from './loopback-server.js';

export { GITHUB_ACTIONS_ISSUER, workflowRef, type WorkflowRun } from './oidc-issuer.js';

/** The workflow a stand-in mints tokens for unless told otherwise. */
export const DEFAULT_RUN: WorkflowRun = {
  repository: 'example/tunnel',
  workflowPath: '.github/workflows/release.yml',
  ref: 'refs/tags/v1',
  sha: '3f786850e387550fdab836ed7e6dc881de23001b'
};

export interface SigstoreStandin {
  /**
   * What a job's environment holds for signing: the runner's token endpoint, GitHub's API URL, and
   * for @actions/attest (whose Sigstore and token-issuer URLs are built in) the proxy that answers
   * for those hosts and the CA its certificates chain to.
   */
  env: Record<string, string>;
  /** trusted_root.json: `cosign verify --trusted-root`. */
  trustedRootPath: string;
  /** signing_config.json with Rekor and the TSA: `cosign sign --signing-config`. */
  signingConfigPath: string;
  /** A signing config with only these witnesses (e.g. the TSA alone, as GitHub's Sigstore instance signs). */
  signingConfigWith(w: Witnesses): string;
  /** The certificate identity of the workflow: `https://github.com/OWNER/REPO/.github/workflows/X.yml@REF`. */
  identity: string;
  /** The certificate's OIDC issuer (the token's `iss`). */
  issuer: string;
  /** A token for `audience` from the stand-in issuer (e.g. for `cosign sign --identity-token`). */
  mintToken(audience?: string): string;
  /** Attestations POSTed to the attestations API, in order. */
  bundlesReceived(): ReceivedAttestation[];
  /** Requests the Sigstore services answered, in order. */
  calls(): ServiceCall[];
  /** Audiences the token endpoint minted for, in order. */
  tokenRequests(): string[];
  /** Hosts the proxy answered for (CONNECT), in order. */
  proxied(): string[];
  dir: string;
  stop(): Promise<void>;
}

export async function start(run: WorkflowRun = DEFAULT_RUN): Promise<SigstoreStandin> {
  const validFrom = new Date(Date.now() - 60_000);
  const dir = mkdtempSync(join(tmpdir(), 'gdp-sigstore-'));
  const servers: { close(): Promise<void> }[] = [];
  try {
    const oidc: OidcIssuer = await startOidcIssuer(run);
    servers.push(oidc.server);
    const services: SigstoreServices = await startSigstoreServices((t) => verifyJwt(t, oidc.publicKey));
    servers.push(services);
    const api = await startAttestationsApi();
    servers.push(api.server);
    const hosts: Record<string, LoopbackServer> = {
      'fulcio.sigstore.dev': services.fulcio,
      'rekor.sigstore.dev': services.rekor,
      'fulcio.githubapp.com': services.fulcio,
      'timestamp.githubapp.com': services.tsa,
      [new URL(run.issuer ?? GITHUB_ACTIONS_ISSUER).host]: oidc.server
    };
    const proxy: InterceptProxy = await startInterceptProxy(hosts, dir);
    servers.push(proxy);

    const trustedRootPath = join(dir, 'trusted_root.json');
    writeFileSync(trustedRootPath, JSON.stringify(trustedRoot(services, validFrom), null, 2));
    let configs = 0;
    const signingConfigWith = (w: Witnesses): string => {
      const path = join(dir, `signing_config.${++configs}.json`);
      writeFileSync(path, JSON.stringify(signingConfig(services, oidc.server.url, validFrom, w), null, 2));
      return path;
    };
    const signingConfigPath = signingConfigWith({ rekor: true, tsa: true });
    const tuf: TufRepo = await startTufRepo(
      { 'trusted_root.json': readFileSync(trustedRootPath, 'utf8'), 'signing_config.v0.2.json': readFileSync(signingConfigPath, 'utf8') },
      dir
    );
    servers.push(tuf.server);
    return {
      env: {
        TUF_MIRROR: tuf.url,
        TUF_ROOT_JSON: tuf.rootPath,
        TUF_ROOT: join(dir, 'tuf-cache'),
        ACTIONS_ID_TOKEN_REQUEST_URL: oidc.requestUrl,
        ACTIONS_ID_TOKEN_REQUEST_TOKEN: oidc.requestToken,
        GITHUB_API_URL: api.server.url,
        HTTPS_PROXY: proxy.url,
        NO_PROXY: '127.0.0.1,localhost',
        NODE_EXTRA_CA_CERTS: proxy.caPath
      },
      trustedRootPath,
      signingConfigPath,
      signingConfigWith,
      identity: `https://github.com/${workflowRef(run)}`,
      issuer: run.issuer ?? GITHUB_ACTIONS_ISSUER,
      mintToken: (audience = 'sigstore') => oidc.mint(audience),
      bundlesReceived: () => api.received.slice(),
      calls: () => services.calls.slice(),
      tokenRequests: () => oidc.requests.slice(),
      proxied: () => proxy.connects.slice(),
      dir,
      stop: async () => {
        await Promise.all(servers.map((s) => s.close()));
        rmSync(dir, { recursive: true, force: true });
      }
    };
  } catch (e) {
    await Promise.all(servers.map((s) => s.close()));
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}
