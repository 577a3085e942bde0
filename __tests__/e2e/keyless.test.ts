// Keyless signing and attestations by the bundled action, offline: a release published to the
// test registry with sign: keyless and attest: github, the job's OIDC token, Sigstore, GitHub's
// attestations API and the hosts @actions/attest has built in from the stand-in
// (support/sigstore-standin.ts, only through the job's environment). Then the verify commands the
// action reports, run as a user would (with the stand-in's TUF mirror in place of Sigstore's):
// the signature and the smoke-test attestation verify by workflow identity, another identity
// fails; the attestations API received SLSA provenance and the test-result statement of the
// index digest, and the bundles pushed beside the image verify against the stand-in's trusted
// root. Signing does not depend on the image store: this suite runs once.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  localPublishInputs,
  platformManifests,
  REGISTRY,
  registryGet,
  runAction,
  TEST_DOCKER_CONFIG,
  uniqueRepo,
  type ActionRun
} from './harness.js';
import { statementOf } from '../support/attestations-api.js';
import { start, workflowRef, DEFAULT_RUN, type SigstoreStandin } from '../support/sigstore-standin.js';

const TEST_RESULT = 'https://in-toto.io/attestation/test-result/v0.1';
const SLSA = 'https://slsa.dev/provenance/v1';

interface ImageOut {
  signature?: { verify: string[] };
  attestations?: { predicateType: string; by: string; digests: string[]; verify: string[] }[];
}

function sh(cmd: string, env: Record<string, string>): Promise<{ status: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', cmd], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', ...env },
      stdio: ['ignore', 'pipe', 'pipe']
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, out }));
  });
}

describe('sign: keyless against the Sigstore stand-in', () => {
  const ns = uniqueRepo('keyless');
  const repo = `${REGISTRY}/${ns}/server`;
  const workflow = { ...DEFAULT_RUN, ref: 'refs/tags/v2.3.1' };
  let s: SigstoreStandin;
  let run: ActionRun;
  let digest: string;

  beforeAll(
    async () => {
      s = await start(workflow);
      run = await runAction({
        inputs: {
          images: `- name: ${repo}\n  smoke: ["--version"]`,
          platforms: 'linux/amd64',
          cache: 'none',
          sign: 'keyless',
          attest: 'github',
          'github-token': 'gh-test-token',
          ...localPublishInputs()
        },
        event: 'release-published.json',
        eventName: 'release',
        ref: workflow.ref,
        env: { ...s.env, GITHUB_WORKFLOW_REF: workflowRef(workflow) }
      });
      digest = (await registryGet(`${ns}/server/manifests/v2.3.1`)).digest ?? '';
    },
    10 * 60 * 1000
  );
  afterAll(async () => s?.stop());
  const tuf = (): Record<string, string> => ({
    TUF_MIRROR: s.env.TUF_MIRROR ?? '',
    TUF_ROOT_JSON: s.env.TUF_ROOT_JSON ?? '',
    TUF_ROOT: `${s.dir}/verify-tuf`,
    DOCKER_CONFIG: TEST_DOCKER_CONFIG
  });

  it('signs the index digest keyless and reports the verify command, which succeeds', async () => {
    expect(run.status === 0 ? '' : run.stdout.split('\n').slice(-25).join('\n')).toBe('');
    expect(run.stdout).toContain(`Signed ${repo}@${digest} (keyless, as this workflow)`);
    const [img] = JSON.parse(run.outputs.images ?? '[]') as ImageOut[];
    const command = img?.signature?.verify[0] ?? '';
    expect(command).toBe(
      `cosign verify --certificate-identity=${s.identity} --certificate-oidc-issuer=${s.issuer} --allow-http-registry ${repo}@${digest}`
    );
    const v = await sh(command, tuf());
    expect(v.out).toContain('The code-signing certificate was verified using trusted certificate authority certificates');
    expect(v.status).toBe(0);
    const other = await sh(command.replace('release.yml', 'other.yml'), tuf());
    expect(other.status).not.toBe(0);
    expect(other.out).toContain('expected SAN value');
    expect(
      s
        .calls()
        .slice(0, 3)
        .map((c) => c.service)
    ).toEqual(['fulcio', 'tsa', 'rekor']);
  });

  it('the smoke-test attestation verifies with the reported command (the workflow identity); with another identity it fails, saying why', async () => {
    const amd64 = (await platformManifests(`${ns}/server`, 'v2.3.1'))['linux/amd64'] ?? '';
    const [img] = JSON.parse(run.outputs.images ?? '[]') as ImageOut[];
    const cosignMade = img?.attestations?.find((a) => a.by === 'cosign');
    expect(cosignMade?.digests).toEqual([digest, amd64]);
    const command = cosignMade?.verify[0] ?? '';
    expect(command).toBe(
      `cosign verify-attestation --certificate-identity=${s.identity} --certificate-oidc-issuer=${s.issuer} --type=${TEST_RESULT} --allow-http-registry ${repo}@${digest}`
    );
    const v = await sh(command, tuf());
    expect(v.status === 0 ? '' : v.out).toBe('');
    const other = await sh(command.replace('release.yml', 'other.yml'), tuf());
    expect(other.status).not.toBe(0);
    expect(other.out).toContain(`expected SAN value "${s.identity.replace('release.yml', 'other.yml')}", got "${s.identity}"`);
    expect(run.stdout).toContain(`Read back from ${REGISTRY}: the signature, the attestation ${TEST_RESULT}`);
  });

  it('attest: github: the attestations API received SLSA provenance and the smoke-test statement of the index digest; the bundles pushed beside the image verify against the stand-in’s trusted root', async () => {
    const amd64 = (await platformManifests(`${ns}/server`, 'v2.3.1'))['linux/amd64'] ?? '';
    const received = s.bundlesReceived();
    expect(received.map((a) => [a.owner, a.repo, a.authorization])).toEqual([
      ['example', 'tunnel', 'token gh-test-token'],
      ['example', 'tunnel', 'token gh-test-token']
    ]);
    const statements = received.map(statementOf);
    expect(statements.map((st) => st.predicateType)).toEqual([SLSA, TEST_RESULT]);
    const subject = (d: string) => ({ name: repo, digest: { sha256: d.slice(7) } });
    expect(statements[0]?.subject).toEqual([subject(digest)]);
    expect(statements[1]?.subject).toEqual([subject(digest), subject(amd64)]);
    expect(statements[0]?.predicate).toMatchObject({ runDetails: { builder: { id: s.identity } } });
    for (const type of [SLSA, TEST_RESULT]) {
      // From the registry, as gh attestation verify --bundle-from-oci reads it; GitHub's instance timestamps instead of logging.
      const v = await sh(
        [
          'cosign verify-attestation',
          `--trusted-root=${s.trustedRootPath}`,
          `--certificate-identity=${s.identity}`,
          `--certificate-oidc-issuer=${s.issuer}`,
          '--insecure-ignore-tlog',
          `--type=${type}`,
          '--allow-http-registry',
          `${repo}@${digest}`
        ].join(' '),
        { DOCKER_CONFIG: TEST_DOCKER_CONFIG }
      );
      expect([type, v.status === 0 ? '' : v.out]).toEqual([type, '']);
    }
    const [img] = JSON.parse(run.outputs.images ?? '[]') as ImageOut[];
    expect(img?.attestations?.filter((a) => a.by === 'github').map((a) => [a.predicateType, a.verify[0]])).toEqual([
      [SLSA, `gh attestation verify oci://${repo}@${digest} --repo example/tunnel --bundle-from-oci`],
      [TEST_RESULT, `gh attestation verify oci://${repo}@${digest} --repo example/tunnel --bundle-from-oci --predicate-type ${TEST_RESULT}`]
    ]);
    expect(run.stdout).toContain(
      `the GitHub artifact attestation ${SLSA}, the GitHub artifact attestation ${TEST_RESULT} of ${repo}@${digest} verified`
    );
  });
});
