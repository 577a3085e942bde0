// Keyless signing by the bundled action, offline: a release published to the test registry with
// sign: keyless, the job's OIDC token and Sigstore from the stand-in (support/sigstore-standin.ts,
// only through the job's environment), then the verify command the action reports, run as a user
// would (with the stand-in's TUF mirror in place of Sigstore's): it succeeds, and another workflow
// identity fails. Signing does not depend on the image store: this suite runs once.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { localPublishInputs, REGISTRY, registryGet, runAction, TEST_DOCKER_CONFIG, uniqueRepo, type ActionRun } from './harness.js';
import { start, workflowRef, DEFAULT_RUN, type SigstoreStandin } from '../support/sigstore-standin.js';

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

  it('signs the index digest keyless and reports the verify command, which succeeds', async () => {
    expect(run.status === 0 ? '' : run.stdout.split('\n').slice(-25).join('\n')).toBe('');
    expect(run.stdout).toContain(`Signed ${repo}@${digest} (keyless, as this workflow)`);
    const [img] = JSON.parse(run.outputs.images ?? '[]') as { signature?: { verify: string[] } }[];
    const command = img?.signature?.verify[0] ?? '';
    expect(command).toBe(
      `cosign verify --certificate-identity=${s.identity} --certificate-oidc-issuer=${s.issuer} --allow-http-registry ${repo}@${digest}`
    );
    const tuf = {
      TUF_MIRROR: s.env.TUF_MIRROR ?? '',
      TUF_ROOT_JSON: s.env.TUF_ROOT_JSON ?? '',
      TUF_ROOT: `${s.dir}/verify-tuf`,
      DOCKER_CONFIG: TEST_DOCKER_CONFIG
    };
    const v = await sh(command, tuf);
    expect(v.out).toContain('The code-signing certificate was verified using trusted certificate authority certificates');
    expect(v.status).toBe(0);
    const other = await sh(command.replace('release.yml', 'other.yml'), tuf);
    expect(other.status).not.toBe(0);
    expect(other.out).toContain('expected SAN value');
    expect(s.calls().map((c) => c.service)).toEqual(['fulcio', 'tsa', 'rekor']);
  });
});
