// GitHub artifact attestations (attest: github), in-process: @actions/attest signs the statement
// with the workflow's OIDC token on the Sigstore instance GitHub uses for the repository and stores
// it with the attestations API (attestProvenance: SLSA v1 build provenance as
// actions/attest-build-provenance makes it; attest: the smoke-test statement); @sigstore/oci then
// pushes the bundle beside each subject in each repository, as actions/attest's push-to-registry
// does (an OCI referrer, and the sha256-<hex> referrers tag where the registry has no referrers
// API), which is where `gh attestation verify --bundle-from-oci` and cosign look. The registry
// credentials are the action's logins (registry/registries), else the workflow's Docker config.
import { attest, attestProvenance, type Attestation } from '@actions/attest';
import { attachArtifactToImage, type Credentials } from '@sigstore/oci';
import { explainAttestFailure } from '../plan/attest-failure.js';
import { credentialKeys } from '../plan/docker-config.js';
import { registryOf } from '../plan/reference.js';
import { subjectsOf } from '../plan/test-result.js';
import type { AttestSpec, RegistryLogin } from '../plan/types.js';
import { SLSA_PROVENANCE_TYPE } from '../plan/verify.js';

/** One attestation: subjects REPOSITORY@DIGEST for each digest, pushed beside each of them in every repository. */
export interface GithubAttestation {
  /** The subjects' name (the image's first repository). */
  name: string;
  digests: string[];
  repositories: string[];
  predicateType: string;
  /** undefined: SLSA build provenance of this workflow run (@actions/attest builds it from the OIDC token's claims). */
  predicate?: object;
}

export interface GithubAttester {
  attest(a: GithubAttestation): Promise<void>;
}

const OCI_FETCH = { timeout: 30_000, retry: 3 } as Parameters<typeof attachArtifactToImage>[0]['fetchOpts'];

/** The registry login for a repository: the action's own, else an `auths` entry of the workflow's Docker config. */
export function registryCredentials(repository: string, logins: RegistryLogin[], userConfig: unknown): Credentials | undefined {
  const host = registryOf(repository);
  const keys = credentialKeys(host);
  const login = logins.find((l) => keys.includes(l.registry) || credentialKeys(l.registry).includes(host));
  if (login) return { username: login.username, password: login.password };
  const auths = (userConfig as { auths?: Record<string, { auth?: string; identitytoken?: string }> } | undefined)?.auths ?? {};
  const entry = keys.map((k) => auths[k]).find((a) => a?.auth);
  if (!entry?.auth) return undefined;
  const [username = '', ...rest] = Buffer.from(entry.auth, 'base64').toString().split(':');
  return { username, password: entry.identitytoken || rest.join(':') };
}

export function githubAttester(spec: Exclude<AttestSpec['github'], false>, logins: RegistryLogin[], userConfig: unknown): GithubAttester {
  return {
    async attest(a) {
      const subjects = subjectsOf(a.name, a.digests);
      const common = { subjects, token: spec.token, sigstore: spec.sigstore };
      let made: Attestation;
      try {
        made =
          a.predicate === undefined
            ? await attestProvenance(common)
            : await attest({ ...common, predicateType: a.predicateType, predicate: a.predicate });
      } catch (e) {
        throw explainAttestFailure(e, `Attesting ${a.name}@${a.digests[0] ?? ''} (${a.predicateType}) with GitHub's artifact attestations`);
      }
      const type = a.predicate === undefined ? SLSA_PROVENANCE_TYPE : a.predicateType;
      for (const repository of a.repositories) {
        const credentials = registryCredentials(repository, logins, userConfig);
        for (const digest of a.digests) {
          try {
            await attachArtifactToImage({
              credentials: credentials as Credentials,
              imageName: repository,
              imageDigest: digest,
              artifact: Buffer.from(JSON.stringify(made.bundle)),
              mediaType: made.bundle.mediaType,
              annotations: { 'dev.sigstore.bundle.content': 'dsse-envelope', 'dev.sigstore.bundle.predicateType': type },
              fetchOpts: OCI_FETCH
            });
          } catch (e) {
            const login = credentials ? '' : ` (no login for ${registryOf(repository)}: give it in "registries")`;
            throw explainAttestFailure(e, `Pushing the ${type} attestation beside ${repository}@${digest}${login}`);
          }
        }
      }
    }
  };
}
