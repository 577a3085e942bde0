// Signing and the smoke-test attestation end to end, offline: a cosign key pair made here, a
// release published with sign: key and no transparency log to two registries (localhost:5151, and
// localhost:5152 through a fault proxy that answers as a registry without the referrers API), with
// a second image whose smoke test is off. Then, as a user: `cosign verify` succeeds for the index
// digest the run signed and fails for an image the run did not sign and for another key;
// `cosign verify-attestation --type …test-result/v0.1` succeeds for the index digest in both
// registries, its predicate naming the tested platform with its manifest digest, and fails for the
// image that was not smoke-tested. The run read everything back itself, through the tag fallback.
// A second run, whose registry drops signature uploads, fails at the read-back naming that
// registry. Keyless signing is keyless.test.ts. Signing does not depend on the image store: this
// suite runs once.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import {
  localPublishInputs,
  LOCAL_BASE_ARGS,
  listTags,
  platformManifests,
  REGISTRY,
  REGISTRY2,
  REGISTRY2_PASSWORD,
  REGISTRY2_USER,
  REGISTRY_PASSWORD,
  REGISTRY_USER,
  registryGet,
  runAction,
  TEST_DOCKER_CONFIG,
  uniqueRepo,
  type ActionRun
} from './harness.js';

const TEST_RESULT = 'https://in-toto.io/attestation/test-result/v0.1';

/** A cosign key pair in a directory of its own (cosign.key, cosign.pub), with this password. */
function keyPair(password: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'gdp-cosign-'));
  const r = spawnSync('cosign', ['generate-key-pair'], { cwd: dir, env: { ...process.env, COSIGN_PASSWORD: password }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cosign generate-key-pair: ${r.stderr}`);
  return dir;
}

/** cosign with the test's registry logins; its exit status, stdout and all output. */
function cosign(args: string[]): { status: number | null; stdout: string; out: string } {
  const r = spawnSync('cosign', args, { env: { ...process.env, DOCKER_CONFIG: TEST_DOCKER_CONFIG }, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, out: `${r.stdout}${r.stderr}` };
}

/** cosign verify with the test's registry logins; its exit status, output, and the cause it gives (its `Error:` line). */
function verify(ref: string, pub: string): { status: number | null; out: string; error: string } {
  const r = cosign(['verify', `--key=${pub}`, '--insecure-ignore-tlog', '--allow-http-registry', ref]);
  return { ...r, error: r.out.split('\n').find((l) => l.startsWith('Error: ')) ?? '' };
}

/** cosign verify-attestation of the smoke-test statement; the status, the output and the statement it verified. */
function verifyTestResult(ref: string, pub: string): { status: number | null; out: string; statement?: Statement } {
  const r = cosign(['verify-attestation', `--key=${pub}`, '--insecure-ignore-tlog', '--allow-http-registry', `--type=${TEST_RESULT}`, ref]);
  const envelope = r.stdout.split('\n').find((l) => l.startsWith('{'));
  if (!envelope) return r;
  return {
    ...r,
    statement: JSON.parse(Buffer.from((JSON.parse(envelope) as { payload: string }).payload, 'base64').toString()) as Statement
  };
}

interface Statement {
  subject: { name: string; digest: { sha256: string } }[];
  predicateType: string;
  predicate: {
    result: string;
    url: string;
    passedTests: string[];
    configuration: { name: string; uri?: string; digest?: { sha256: string }; annotations?: Record<string, unknown> }[];
  };
}

interface ImageOut {
  name: string;
  tested: Record<string, string>;
  signature?: { digest: string; verify: string[] };
  attestations?: { predicateType: string; by: string; digests: string[]; verify: string[] }[];
}

const keys = keyPair('gdp-cosign-password');
const keyInputs = {
  platforms: 'linux/amd64',
  'build-args': LOCAL_BASE_ARGS,
  cache: 'none',
  sign: 'key',
  'cosign-key': readFileSync(join(keys, 'cosign.key'), 'utf8'),
  'cosign-password': 'gdp-cosign-password',
  'transparency-log': 'false'
};

describe('signing with a key (offline, no transparency log), the smoke-test attestation, and the read-back', () => {
  const ns = uniqueRepo('sign');
  const repo = `${REGISTRY}/${ns}/server`;
  const untested = `${REGISTRY}/${ns}/untested`;
  let proxy: FaultProxy;
  let run: ActionRun;
  let digest: string;

  beforeAll(
    async () => {
      // localhost:5152 through a proxy that answers as a registry without the referrers API.
      proxy = await startFaultProxy({ host: '127.0.0.1', port: Number(REGISTRY2.split(':')[1]) });
      proxy.noReferrers();
      run = await runAction({
        inputs: {
          ...keyInputs,
          images: `- names: [${repo}, ${proxy.address}/${ns}/server]\n  smoke: ["--version"]\n- name: ${untested}\n  smoke: false`,
          registries: [
            `- {registry: ${REGISTRY}, username: ${REGISTRY_USER}, password: ${REGISTRY_PASSWORD}}`,
            `- {registry: "${proxy.address}", username: ${REGISTRY2_USER}, password: ${REGISTRY2_PASSWORD}}`
          ].join('\n')
        },
        event: 'release-published.json',
        eventName: 'release',
        ref: 'refs/tags/v2.3.1'
      });
      digest = (await registryGet(`${ns}/server/manifests/v2.3.1`)).digest ?? '';
    },
    10 * 60 * 1000
  );
  afterAll(async () => proxy?.close());

  it('publishes, then signs the index digest the tags hold, and reports how to verify it', async () => {
    expect(run.status === 0 ? '' : run.stdout.split('\n').slice(-25).join('\n')).toBe('');
    // The signature is in the registry, for the index digest: the test registry has no referrers
    // API, so cosign 3 stores it under the referrers tag schema's tag, sha256-<hex of the digest>.
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(await listTags(`${ns}/server`)).toEqual(
      expect.arrayContaining(['latest', `sha256-${digest.slice('sha256:'.length)}`, 'v2.3.1'])
    );
    expect(run.stdout).toContain(`Signed ${repo}@${digest} (with the key)`);
    const [img] = JSON.parse(run.outputs.images ?? '[]') as ImageOut[];
    expect(img?.signature).toEqual({
      digest,
      verify: [repo, `${proxy.address}/${ns}/server`].map(
        (r) => `cosign verify --key cosign.pub --insecure-ignore-tlog --allow-http-registry ${r}@${digest}`
      )
    });
    expect(run.summary).toContain('verify: <code>cosign verify --key cosign.pub');
  });

  it('the smoke-test attestation verifies for the index digest in both registries; its predicate names the tested platform with its manifest digest and image ID', async () => {
    const amd64 = (await platformManifests(`${ns}/server`, 'v2.3.1'))['linux/amd64'] ?? '';
    const [img] = JSON.parse(run.outputs.images ?? '[]') as ImageOut[];
    expect(img?.attestations).toEqual([
      {
        predicateType: TEST_RESULT,
        by: 'cosign',
        digests: [digest, amd64],
        verify: [repo, `${proxy.address}/${ns}/server`].flatMap((r) =>
          [digest, amd64].map(
            (d) => `cosign verify-attestation --key cosign.pub --insecure-ignore-tlog --type=${TEST_RESULT} --allow-http-registry ${r}@${d}`
          )
        )
      }
    ]);
    for (const registry of [REGISTRY, REGISTRY2]) {
      const v = verifyTestResult(`${registry}/${ns}/server@${digest}`, join(keys, 'cosign.pub'));
      expect([registry, v.status]).toEqual([registry, 0]);
      expect(v.statement?.subject).toEqual([
        { name: `${registry === REGISTRY ? REGISTRY : proxy.address}/${ns}/server`, digest: { sha256: digest.slice(7) } }
      ]);
      expect(v.statement?.predicate).toMatchObject({
        result: 'PASSED',
        url: expect.stringMatching(/^https:\/\/github\.com\/example\/tunnel\/actions\/runs\/\d+\/attempts\/1$/),
        passedTests: ['linux/amd64: exited with code 0']
      });
      expect(v.statement?.predicate.configuration.slice(1)).toEqual([
        {
          name: 'linux/amd64',
          digest: { sha256: amd64.slice(7) },
          annotations: expect.objectContaining({
            manifest: amd64,
            imageId: img?.tested['linux/amd64'],
            command: ['--version'],
            exitCode: 0
          })
        }
      ]);
    }
    // And on the platform's manifest digest itself.
    expect(verifyTestResult(`${REGISTRY2}/${ns}/server@${amd64}`, join(keys, 'cosign.pub')).status).toBe(0);
  });

  it('an image whose smoke test was off is signed, but has no smoke-test attestation', async () => {
    const ref = `${untested}@${(await registryGet(`${ns}/untested/manifests/v2.3.1`)).digest ?? ''}`;
    expect(verify(ref, join(keys, 'cosign.pub')).status).toBe(0);
    const v = verifyTestResult(ref, join(keys, 'cosign.pub'));
    expect(v.status).not.toBe(0);
    expect(v.out).toContain(
      `none of the attestations matched the predicate type: ${TEST_RESULT}, found: https://sigstore.dev/cosign/sign/v1`
    );
    expect(run.stdout).toContain(`::notice::${untested}: no smoke-test attestation: smoke: false, so nothing PASSED is attested`);
  });

  it('the run read its signature and attestations back from both registries, through the referrers tag where the registry has no referrers API', () => {
    expect(run.stdout).toContain(`Read back from ${REGISTRY}: the signature, the attestation ${TEST_RESULT} of ${repo}@${digest} verified`);
    expect(run.stdout).toContain(
      `Read back from ${proxy.address}: the signature, the attestation ${TEST_RESULT} of ${proxy.address}/${ns}/server@${digest} verified`
    );
    const referrers = proxy.seen.filter((q) => q.kind === 'referrers');
    expect(referrers.length).toBeGreaterThan(0);
    expect(new Set(referrers.map((q) => q.status))).toEqual(new Set([404]));
    expect(
      proxy.seen.some((q) => q.method === 'GET' && q.path.endsWith(`/manifests/${digest.replace(':', '-')}`) && q.status === 200)
    ).toBe(true);
  });

  it('cosign verify --key succeeds for the signed index digest', () => {
    const v = verify(`${repo}@${digest}`, join(keys, 'cosign.pub'));
    expect(v.out).toContain('The signatures were verified against the specified public key');
    expect(v.status).toBe(0);
  });

  it('and fails, each for its reason: an image the run neither signed nor attested (a platform manifest of the untested image: no signatures) and another key (no signature verifies)', async () => {
    // A platform manifest the run attested verifies too: cosign 3 takes the attestation's bundle, signed with the key, as a signature.
    const attested = (await platformManifests(`${ns}/server`, 'v2.3.1'))['linux/amd64'];
    expect(verify(`${repo}@${attested}`, join(keys, 'cosign.pub')).status).toBe(0);
    const bare = (await platformManifests(`${ns}/untested`, 'v2.3.1'))['linux/amd64'];
    expect(bare).toMatch(/^sha256:/);
    // Each fails for its own reason, not any: a wrong flag or an unreachable registry fails too (exit 1, another cause).
    // No signature at all: cosign's exit code 10 ("no signature").
    const v = verify(`${untested}@${bare}`, join(keys, 'cosign.pub'));
    expect([v.status, v.error]).toEqual([10, 'Error: no signatures found']);
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

describe('read-back from a registry that drops signature uploads', () => {
  const ns = uniqueRepo('dropsig');
  let proxy: FaultProxy;
  let run: ActionRun;

  beforeAll(
    async () => {
      proxy = await startFaultProxy();
      proxy.dropSignatures();
      run = await runAction({
        inputs: {
          ...keyInputs,
          images: `- name: ${proxy.address}/${ns}/server\n  smoke: ["--version"]`,
          ...localPublishInputs(),
          'build-args': LOCAL_BASE_ARGS,
          registry: proxy.address,
          // BuildKit's attestation manifests name the image as their subject: the proxy would drop them too.
          provenance: 'false'
        },
        event: 'release-published.json',
        eventName: 'release',
        ref: 'refs/tags/v2.3.1'
      });
    },
    10 * 60 * 1000
  );
  afterAll(async () => proxy?.close());

  it('fails naming that registry and the signature it could not find; the tags stay, reported pushed unsigned', async () => {
    const digest = (await registryGet(`${ns}/server/manifests/v2.3.1`)).digest ?? '';
    expect(digest === '' ? run.stdout.split('\n').slice(-30).join('\n') : digest).toMatch(/^sha256:/);
    expect(proxy.dropped().length).toBeGreaterThan(0);
    expect(run.status).not.toBe(0);
    const error = run.stdout.split('\n').find((l) => l.startsWith('::error::Reading back')) ?? run.stdout.split('\n').slice(-20).join('\n');
    expect(error).toContain(
      `::error::Reading back from ${proxy.address} failed: the signature of ${proxy.address}/${ns}/server@${digest} was not found there (`
    );
    expect(error).toContain('Error: no signatures found');
    expect(error).toContain(`Its tags are already pushed, unsigned as a user of ${proxy.address} sees them`);
    expect((run.outputs['pushed-tags'] ?? '').split('\n')).toEqual(expect.arrayContaining([`${proxy.address}/${ns}/server:v2.3.1`]));
    expect(await listTags(`${ns}/server`)).toEqual(expect.arrayContaining(['latest', 'v2.3.1']));
  });
});
