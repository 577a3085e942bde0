// Signing end to end, offline: a cosign key pair made here, a release published to the test
// registry with sign: key and no transparency log (no Sigstore service can be reached), then
// `cosign verify` against the registry: it succeeds for the index digest the run signed, and fails
// for an image the run did not sign and for another key. Keyless signing, against a Sigstore
// stand-in: keyless.test.ts. Signing does not depend on the image store: this suite runs once.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from '@jest/globals';
import {
  localPublishInputs,
  LOCAL_BASE_ARGS,
  listTags,
  platformManifests,
  REGISTRY,
  registryGet,
  runAction,
  TEST_DOCKER_CONFIG,
  uniqueRepo,
  type ActionRun
} from './harness.js';

/** A cosign key pair in a directory of its own (cosign.key, cosign.pub), with this password. */
function keyPair(password: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'gdp-cosign-'));
  const r = spawnSync('cosign', ['generate-key-pair'], { cwd: dir, env: { ...process.env, COSIGN_PASSWORD: password }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cosign generate-key-pair: ${r.stderr}`);
  return dir;
}

/** cosign verify with the test's registry logins; its exit status, output, and the cause it gives (its `Error:` line). */
function verify(ref: string, pub: string): { status: number | null; out: string; error: string } {
  const r = spawnSync('cosign', ['verify', `--key=${pub}`, '--insecure-ignore-tlog', '--allow-http-registry', ref], {
    env: { ...process.env, DOCKER_CONFIG: TEST_DOCKER_CONFIG },
    encoding: 'utf8'
  });
  const out = `${r.stdout}${r.stderr}`;
  return { status: r.status, out, error: out.split('\n').find((l) => l.startsWith('Error: ')) ?? '' };
}

describe('signing with a key (offline, no transparency log)', () => {
  const ns = uniqueRepo('sign');
  const repo = `${REGISTRY}/${ns}/server`;
  const keys = keyPair('gdp-cosign-password');
  let run: ActionRun;
  let digest: string;

  beforeAll(
    async () => {
      run = await runAction({
        inputs: {
          images: `- name: ${repo}\n  smoke: ["--version"]`,
          platforms: 'linux/amd64',
          'build-args': LOCAL_BASE_ARGS,
          cache: 'none',
          sign: 'key',
          'cosign-key': readFileSync(join(keys, 'cosign.key'), 'utf8'),
          'cosign-password': 'gdp-cosign-password',
          'transparency-log': 'false',
          ...localPublishInputs()
        },
        event: 'release-published.json',
        eventName: 'release',
        ref: 'refs/tags/v2.3.1'
      });
      digest = (await registryGet(`${ns}/server/manifests/v2.3.1`)).digest ?? '';
    },
    10 * 60 * 1000
  );

  it('publishes, then signs the index digest the tags hold, and reports how to verify it', async () => {
    expect(run.status === 0 ? '' : run.stdout.split('\n').slice(-25).join('\n')).toBe('');
    // The signature is in the registry, for the index digest: the test registry has no referrers
    // API, so cosign 3 stores it under the referrers tag schema's tag, sha256-<hex of the digest>.
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(await listTags(`${ns}/server`)).toEqual(['latest', `sha256-${digest.slice('sha256:'.length)}`, 'v2.3.1']);
    expect(run.stdout).toContain(`Signed ${repo}@${digest} (with the key)`);
    const [img] = JSON.parse(run.outputs.images ?? '[]') as { signature?: { digest: string; verify: string[] } }[];
    expect(img?.signature).toEqual({
      digest,
      verify: [`cosign verify --key cosign.pub --insecure-ignore-tlog --allow-http-registry ${repo}@${digest}`]
    });
    expect(run.summary).toContain('verify: <code>cosign verify --key cosign.pub');
  });

  it('cosign verify --key succeeds for the signed index digest', () => {
    const v = verify(`${repo}@${digest}`, join(keys, 'cosign.pub'));
    expect(v.out).toContain('The signatures were verified against the specified public key');
    expect(v.status).toBe(0);
  });

  it('and fails, each for its reason: an image the run did not sign (the platform manifest: no signatures) and another key (no signature verifies)', async () => {
    const amd64 = (await platformManifests(`${ns}/server`, 'v2.3.1'))['linux/amd64'];
    expect(amd64).toMatch(/^sha256:/);
    // Each fails for its own reason, not any: a wrong flag or an unreachable registry fails too (exit 1, another cause).
    // The platform manifest has no signature at all: cosign's exit code 10 ("no signature").
    const unsigned = verify(`${repo}@${amd64}`, join(keys, 'cosign.pub'));
    expect([unsigned.status, unsigned.error]).toEqual([10, 'Error: no signatures found']);
    // The index is signed, by another key: the signature is found and does not verify.
    const other = keyPair('another-password');
    const mismatch = verify(`${repo}@${digest}`, join(other, 'cosign.pub'));
    expect(mismatch.status).toBe(1);
    expect(mismatch.error).toMatch(/failed to verify signature: .*accepted signatures do not match threshold, Found: 0, Expected 1$/);
  });

  it('the key and its password reach no log line except the masks; the provenance attestation is in the index', async () => {
    const secrets = [
      'gdp-cosign-password',
      ...readFileSync(join(keys, 'cosign.key'), 'utf8')
        .split('\n')
        .filter((l) => l !== '' && !l.startsWith('-----'))
    ];
    for (const s of secrets) {
      expect(run.stdout.split('\n').filter((l) => l.includes(s) && !l.startsWith('::add-mask::'))).toEqual([]);
    }
    const index = (await registryGet(`${ns}/server/manifests/v2.3.1`)).json as {
      manifests: { platform?: { os: string }; annotations?: Record<string, string> }[];
    };
    expect(index.manifests.filter((m) => m.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest')).toHaveLength(1);
    expect(run.summary).toContain('provenance (mode=min), in the index');
  });
});
