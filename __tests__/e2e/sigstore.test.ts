// Keyless signing for real, offline, against the Sigstore stand-in (support/sigstore-standin.ts):
// cosign 3 signs and attests an image in the test registry with a GitHub workflow's OIDC token
// from the runner's token endpoint, and verifies it by workflow identity and issuer; a wrong
// identity, issuer or trust root fails and says why. Also what the action relies on: where cosign
// stores signatures in a registry without the referrers API, key-based attestations without a
// transparency log, and @actions/attest in a job process (SLSA provenance, a test-result
// statement) reaching the stand-in through the proxy for its built-in hosts, its bundles received
// by the attestations API and verifiable with cosign. No engine is used (the image is pushed over
// the registry API): this suite runs once.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { basicAuth, REGISTRY, REGISTRY_PASSWORD, REGISTRY_USER, registryGet, ROOT, TEST_DOCKER_CONFIG, uniqueRepo } from './harness.js';
import { statementOf } from '../support/attestations-api.js';
import { start, type SigstoreStandin } from '../support/sigstore-standin.js';
import { pushTinyIndex } from '../support/tiny-image.js';

const TEST_RESULT = 'https://in-toto.io/attestation/test-result/v0.1';
const SLSA = 'https://slsa.dev/provenance/v1';
const OTHER_IDENTITY = 'https://github.com/example/tunnel/.github/workflows/other.yml@refs/tags/v1';

/** The variables cosign reads from a job's environment to find a private Sigstore (TUF mirror) and the OIDC token. */
const TUF_VARS = ['TUF_MIRROR', 'TUF_ROOT_JSON', 'TUF_ROOT'];
const TOKEN_VARS = ['ACTIONS_ID_TOKEN_REQUEST_URL', 'ACTIONS_ID_TOKEN_REQUEST_TOKEN'];

function pick(env: Record<string, string>, names: string[]): Record<string, string> {
  return Object.fromEntries(names.filter((n) => env[n] !== undefined).map((n) => [n, env[n] ?? '']));
}

const emptyTufCache = mkdtempSync(join(tmpdir(), 'gdp-tuf-'));

/** A command's exit status and output, run without blocking: the stand-in answers from this process. */
function run(
  cmd: string,
  args: string[],
  env: Record<string, string>,
  cwd?: string
): Promise<{ status: number | null; stdout: string; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, out: `${stdout}${stderr}` }));
  });
}

/** cosign with the test registry's login, a TUF cache of its own, and `env`. */
function cosign(args: string[], env: Record<string, string> = {}) {
  const base = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/root',
    DOCKER_CONFIG: TEST_DOCKER_CONFIG,
    TUF_ROOT: emptyTufCache
  };
  return run('cosign', args, { ...base, ...env });
}

describe('keyless signing against the Sigstore stand-in (cosign 3, @actions/attest)', () => {
  let s: SigstoreStandin;
  let other: SigstoreStandin;
  const path = `${uniqueRepo('sigstore')}/tiny`;
  const repo = `${REGISTRY}/${path}`;
  let digest: string;
  let ref: string;

  beforeAll(async () => {
    s = await start();
    other = await start();
    digest = await pushTinyIndex(REGISTRY, path, 'v1', basicAuth(REGISTRY_USER, REGISTRY_PASSWORD));
    ref = `${repo}@${digest}`;
  }, 60_000);
  afterAll(async () => {
    await s?.stop();
    await other?.stop();
  });

  it('cosign sign --yes signs with nothing but the job environment: the runner token endpoint, and the TUF mirror for services and trust', async () => {
    const r = await cosign(['sign', '--yes', ref], pick(s.env, [...TUF_VARS, ...TOKEN_VARS]));
    expect(r.out).toContain(`Pushing signature to: ${repo}`);
    expect(r.status).toBe(0);
    expect(s.tokenRequests()).toEqual(['sigstore']);
    expect(s.calls().map((c) => `${c.service} ${c.status}`)).toEqual(['fulcio 200', 'tsa 201', 'rekor 201']);
    expect(s.calls()[0]?.detail).toBe(s.identity);
  });

  it('cosign verify by workflow identity and issuer succeeds, through the TUF mirror and with --trusted-root', async () => {
    const identity = ['--certificate-identity', s.identity, '--certificate-oidc-issuer', s.issuer];
    const viaTuf = await cosign(['verify', ...identity, ref], pick(s.env, TUF_VARS));
    expect(viaTuf.out).toContain('The code-signing certificate was verified using trusted certificate authority certificates');
    expect(viaTuf.status).toBe(0);
    const viaFile = await cosign(['verify', '--trusted-root', s.trustedRootPath, ...identity, ref]);
    expect(viaFile.status).toBe(0);
    expect(JSON.parse(viaFile.stdout)).toEqual([
      expect.objectContaining({ critical: expect.objectContaining({ image: { 'docker-manifest-digest': digest } }) })
    ]);
  });

  it('and fails for another workflow, another issuer, or another Sigstore, each saying why', async () => {
    const trust = ['--trusted-root', s.trustedRootPath];
    const wrongIdentity = await cosign([
      'verify',
      ...trust,
      '--certificate-identity',
      OTHER_IDENTITY,
      '--certificate-oidc-issuer',
      s.issuer,
      ref
    ]);
    expect(wrongIdentity.status).not.toBe(0);
    expect(wrongIdentity.out).toContain(`expected SAN value "${OTHER_IDENTITY}", got "${s.identity}"`);
    const wrongIssuer = await cosign([
      'verify',
      ...trust,
      '--certificate-identity',
      s.identity,
      '--certificate-oidc-issuer',
      'https://accounts.google.com',
      ref
    ]);
    expect(wrongIssuer.status).not.toBe(0);
    expect(wrongIssuer.out).toContain(`expected issuer value "https://accounts.google.com", got "${s.issuer}"`);
    const otherRoot = await cosign([
      'verify',
      '--trusted-root',
      other.trustedRootPath,
      '--certificate-identity',
      s.identity,
      '--certificate-oidc-issuer',
      s.issuer,
      ref
    ]);
    expect(otherRoot.status).not.toBe(0);
    // Its Rekor is not the other Sigstore's: the transparency log check fails first.
    expect(otherRoot.out).toContain('failed to verify log inclusion: not enough verified log entries from transparency log: 0 < 1');
  });

  it('the signature is a Sigstore bundle referrer; without a referrers API it is indexed under the tag sha256-<hex>', async () => {
    expect((await registryGet(`${path}/referrers/${digest}`)).status).toBe(404);
    const tag = digest.replace(':', '-');
    const index = (await registryGet(`${path}/manifests/${tag}`)).json as { manifests: { digest: string }[] };
    expect(index.manifests).toHaveLength(1);
    const referrer = (await registryGet(`${path}/manifests/${index.manifests[0]?.digest}`)).json;
    expect(referrer).toMatchObject({
      artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
      layers: [{ mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json' }],
      subject: { digest },
      annotations: { 'dev.sigstore.bundle.predicateType': 'https://sigstore.dev/cosign/sign/v1' }
    });
  });

  it('cosign sign --identity-token with --signing-config and --trusted-root works without the runner variables or TUF', async () => {
    const calls = s.calls().length;
    const tsaOnly = s.signingConfigWith({ rekor: false, tsa: true });
    const r = await cosign([
      'sign',
      '--yes',
      '--identity-token',
      s.mintToken(),
      '--signing-config',
      tsaOnly,
      '--trusted-root',
      s.trustedRootPath,
      ref
    ]);
    expect(r.status).toBe(0);
    expect(
      s
        .calls()
        .slice(calls)
        .map((c) => c.service)
    ).toEqual(['fulcio', 'tsa']);
    const v = await cosign([
      'verify',
      '--trusted-root',
      s.trustedRootPath,
      '--certificate-identity',
      s.identity,
      '--certificate-oidc-issuer',
      s.issuer,
      ref
    ]);
    expect(v.status).toBe(0);
  });

  it('cosign attest of a test-result predicate verifies by --type, identity and issuer; another identity fails', async () => {
    const predicate = join(s.dir, 'test-result.json');
    writeFileSync(
      predicate,
      JSON.stringify({ result: 'PASSED', configuration: [], passedTests: ['linux/amd64: --version'], warnedTests: [], failedTests: [] })
    );
    const a = await cosign(
      ['attest', '--yes', '--type', TEST_RESULT, '--predicate', predicate, ref],
      pick(s.env, [...TUF_VARS, ...TOKEN_VARS])
    );
    expect(a.status).toBe(0);
    const verify = (identity: string) =>
      cosign(
        ['verify-attestation', '--type', TEST_RESULT, '--certificate-identity', identity, '--certificate-oidc-issuer', s.issuer, ref],
        pick(s.env, TUF_VARS)
      );
    const ok = await verify(s.identity);
    expect(ok.status).toBe(0);
    const envelope = JSON.parse(ok.out.split('\n').find((l) => l.startsWith('{')) ?? '{}') as { payload: string };
    expect(JSON.parse(Buffer.from(envelope.payload, 'base64').toString())).toMatchObject({
      predicateType: TEST_RESULT,
      subject: [{ name: repo, digest: { sha256: digest.replace('sha256:', '') } }],
      predicate: { result: 'PASSED' }
    });
    const wrong = await verify(OTHER_IDENTITY);
    expect(wrong.status).not.toBe(0);
    expect(wrong.out).toContain(`expected SAN value "${OTHER_IDENTITY}"`);
    const slsa = await cosign(
      ['verify-attestation', '--type', SLSA, '--certificate-identity', s.identity, '--certificate-oidc-issuer', s.issuer, ref],
      pick(s.env, TUF_VARS)
    );
    expect(slsa.out).toContain(`none of the attestations matched the predicate type: ${SLSA}`);
  });

  it('with a key and no transparency log: attest --key and a signing config without services, verify-attestation --key --insecure-ignore-tlog', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gdp-cosign-'));
    expect(spawnSync('cosign', ['generate-key-pair'], { cwd: dir, env: { ...process.env, COSIGN_PASSWORD: 'pw' } }).status).toBe(0);
    const noTlog = join(dir, 'no-tlog.json');
    writeFileSync(
      noTlog,
      JSON.stringify({ mediaType: 'application/vnd.dev.sigstore.signingconfig.v0.2+json', rekorTlogConfig: {}, tsaConfig: {} })
    );
    const predicate = join(dir, 'test-result.json');
    writeFileSync(predicate, JSON.stringify({ result: 'PASSED', configuration: [], passedTests: [], warnedTests: [], failedTests: [] }));
    const env = { GDP_COSIGN_KEY: readFileSync(join(dir, 'cosign.key'), 'utf8'), COSIGN_PASSWORD: 'pw' };
    const a = await cosign(
      ['attest', '--yes', '--key=env://GDP_COSIGN_KEY', `--signing-config=${noTlog}`, '--type', TEST_RESULT, '--predicate', predicate, ref],
      env
    );
    expect(a.status).toBe(0);
    const v = await cosign(['verify-attestation', '--key', join(dir, 'cosign.pub'), '--insecure-ignore-tlog', '--type', TEST_RESULT, ref]);
    expect(v.status).toBe(0);
  });

  it('@actions/attest in a job process reaches the stand-in through the proxy, posts each bundle to the attestations API, and cosign verifies them', async () => {
    for (const sigstore of ['public-good', 'github']) {
      const env = {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/root',
        ...s.env,
        GITHUB_REPOSITORY: 'example/tunnel',
        GITHUB_SERVER_URL: 'https://github.com'
      };
      const child = await run(
        process.execPath,
        [join(ROOT, '__tests__/support/attest-child.mjs'), repo, digest, sigstore, 'gh-test-token'],
        env,
        ROOT
      );
      expect(child.status === 0 ? '' : child.out).toBe('');
      const out = JSON.parse(child.stdout.trim().split('\n').pop() ?? '{}') as Record<
        'provenance' | 'testResult',
        { bundle: object; attestationID?: number; tlogID?: string }
      >;
      for (const [kind, type] of [
        ['provenance', SLSA],
        ['testResult', TEST_RESULT]
      ] as const) {
        const file = join(s.dir, `${sigstore}-${kind}.json`);
        writeFileSync(file, JSON.stringify(out[kind].bundle));
        const tlog = sigstore === 'github' ? ['--insecure-ignore-tlog'] : []; // GitHub's instance timestamps instead of logging
        const args = [
          'verify-blob-attestation',
          '--bundle',
          file,
          '--type',
          type,
          '--digest',
          digest.replace('sha256:', ''),
          '--digestAlg',
          'sha256'
        ];
        const ok = await cosign(
          [...args, '--certificate-identity', s.identity, '--certificate-oidc-issuer', s.issuer, ...tlog],
          pick(s.env, TUF_VARS)
        );
        expect(ok.out).toContain('Verified OK');
        const wrong = await cosign(
          [...args, '--certificate-identity', OTHER_IDENTITY, '--certificate-oidc-issuer', s.issuer, ...tlog],
          pick(s.env, TUF_VARS)
        );
        expect(wrong.out).toContain(`expected SAN value "${OTHER_IDENTITY}"`);
      }
      expect(out.provenance.tlogID === undefined).toBe(sigstore === 'github');
    }
    const received = s.bundlesReceived();
    expect(received.map((a) => [a.id, a.owner, a.repo, a.authorization])).toEqual(
      [1, 2, 3, 4].map((id) => [id, 'example', 'tunnel', 'token gh-test-token'])
    );
    const statements = received.map(statementOf);
    expect(statements.map((st) => st.predicateType)).toEqual([SLSA, TEST_RESULT, SLSA, TEST_RESULT]);
    for (const st of statements) expect(st.subject).toEqual([{ name: repo, digest: { sha256: digest.replace('sha256:', '') } }]);
    expect(statements[0]?.predicate).toMatchObject({
      buildDefinition: {
        externalParameters: {
          workflow: { ref: 'refs/tags/v1', repository: 'https://github.com/example/tunnel', path: '.github/workflows/release.yml' }
        }
      },
      runDetails: { builder: { id: s.identity } }
    });
    expect(new Set(s.proxied())).toEqual(
      new Set([
        'token.actions.githubusercontent.com:443',
        'fulcio.sigstore.dev:443',
        'rekor.sigstore.dev:443',
        'fulcio.githubapp.com:443',
        'timestamp.githubapp.com:443'
      ])
    );
  }, 120_000);
});
