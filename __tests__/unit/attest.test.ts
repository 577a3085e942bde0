// Attestations: the inputs (attest, attest-smoke, github-token), the test-result predicate for each
// kind of smoke test (from smoke specs as the images input gives them and the verdicts smoke.ts
// gives), the cosign attest and verify command lines, the permission checks, and a publish run
// through the pipeline that attests after signing, reads everything back, and fails naming the
// registry when something it made is not found there.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { readInputs } from '../../src/inputs/index.js';
import { buildPlan } from '../../src/plan/plan.js';
import { cosignAttestArgs, runUrl, testedDigests, testResultPredicate, TEST_RESULT_TYPE } from '../../src/plan/test-result.js';
import type { SignSpec, SmokeSpec } from '../../src/plan/types.js';
import {
  commandLine,
  cosignVerifyAttestationArgs,
  ghVerifyCommands,
  hasStatementFor,
  SLSA_PROVENANCE_TYPE,
  verifierFor
} from '../../src/plan/verify.js';
import { describePlan } from '../../src/report/plan-text.js';
import { checkAttestingPossible } from '../../src/run/attest.js';
import { explainAttestFailure } from '../../src/plan/attest-failure.js';
import type { GithubAttestation } from '../../src/run/github-attest.js';
import { runPipeline } from '../../src/run/pipeline.js';
import { recordedCommands } from '../support/dry-run.js';
import { bundleLine, DIGEST, platformEngine } from '../support/fake-engine.js';
import { FakeRunner } from '../support/fake-runner.js';
import { ctxFor } from '../support/plan-inputs.js';

const KEY =
  '-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\neyJrZGYiOnsibmFtZSI6InNjcnlwdCJ9fQ==\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n';
const get =
  (values: Record<string, string>) =>
  (name: string): string =>
    values[name] ?? (name === 'images' ? '- names: [ghcr.io/example/tunnel, docker.io/example/tunnel]' : '');
const smokeOf = (yaml: string): SmokeSpec => readInputs(get({ images: `- name: ghcr.io/o/a\n  smoke: ${yaml}` })).images[0]!.smoke;
const URL_ = 'https://github.com/example/tunnel/actions/runs/991/attempts/2';
const M = DIGEST(5);

describe('attest inputs', () => {
  it('attest-smoke is on when sign or attest is set, off otherwise; the token is kept only with attest: github', () => {
    expect(readInputs(get({})).attest).toEqual({ smoke: false, github: false, token: '' });
    expect(readInputs(get({ sign: 'keyless', 'github-token': 't' })).attest).toEqual({ smoke: true, github: false, token: '' });
    expect(readInputs(get({ attest: 'github', 'github-token': 't' })).attest).toEqual({ smoke: true, github: true, token: 't' });
    expect(readInputs(get({ sign: 'keyless', 'attest-smoke': 'false' })).attest.smoke).toBe(false);
  });
  it.each([
    [{ 'attest-smoke': 'true' }, /Input "attest-smoke": "true" is not valid. Expected "auto" or "false" unless sign or attest is set/],
    [{ attest: 'slsa' }, /Input "attest": "slsa" is not valid. Expected "false" \| "github"/]
  ])('refuses %j', (values, msg) => {
    expect(() => readInputs(get(values))).toThrow(msg);
  });
  it('the Sigstore instance is the one GitHub picks: public-good for a public repository, GitHub’s own otherwise', () => {
    const plan = (visibility?: string) =>
      buildPlan(
        readInputs(get({ attest: 'github', 'github-token': 't' })),
        ctxFor('release-published', { payload: { release: { tag_name: 'v1' }, repository: { visibility } } })
      ).attest;
    expect(plan('public')).toEqual({ smoke: true, github: { token: 't', sigstore: 'public-good' } });
    expect(plan('private')).toEqual({ smoke: true, github: { token: 't', sigstore: 'github' } });
    expect(plan(undefined).github).toMatchObject({ sigstore: 'github' });
  });
});

describe('the test-result predicate, per kind of smoke test', () => {
  const tested = (over: object) => [{ platform: 'linux/amd64', manifest: M, imageId: DIGEST(7), ...over }];

  it('a command given: its argv, exit code 0, the run as its configuration', () => {
    const p = testResultPredicate(smokeOf('["--version"]'), tested({ exitCode: 0, passedBy: 'exited with code 0' }), URL_);
    expect(p).toEqual({
      result: 'PASSED',
      configuration: [
        { name: 'workflow run', uri: URL_ },
        {
          name: 'linux/amd64',
          digest: { sha256: '5'.repeat(64) },
          annotations: {
            manifest: M,
            imageId: DIGEST(7),
            command: ['--version'],
            waitedFor: 'exit code 0',
            timeoutSeconds: 60,
            passedBy: 'exited with code 0',
            exitCode: 0
          }
        }
      ],
      url: URL_,
      passedTests: ['linux/amd64: exited with code 0'],
      warnedTests: [],
      failedTests: []
    });
  });

  it('the image’s own command, passed by its HEALTHCHECK; an entrypoint, env names only (never values), expect', () => {
    const own = testResultPredicate(smokeOf('{}'), tested({ passedBy: 'its HEALTHCHECK reported healthy', health: 'healthy' }), URL_);
    expect(own?.configuration[1]?.annotations).toMatchObject({
      command: "the image's own (its ENTRYPOINT and CMD)",
      upSeconds: 5,
      passedBy: 'its HEALTHCHECK reported healthy',
      healthcheck: 'healthy'
    });
    expect(own?.configuration[1]?.annotations).not.toHaveProperty('exitCode');
    const cmd = testResultPredicate(
      smokeOf('{ entrypoint: /bin/ws, args: ["-v"], env: { TOKEN: s3cr3t-value }, expect: "^ws v" }'),
      tested({ exitCode: 0, passedBy: 'exited with code 0' }),
      URL_
    );
    expect(cmd?.configuration[1]?.annotations).toMatchObject({
      command: ['/bin/ws', '-v'],
      entrypoint: '/bin/ws',
      envNames: ['TOKEN'],
      expect: '^ws v'
    });
    expect(JSON.stringify(cmd)).not.toContain('s3cr3t-value');
  });

  it('an HTTP check: port, path and status; a server that stayed up', () => {
    const http = testResultPredicate(
      smokeOf('{ http: { port: 8080, path: /healthz }, expect: listening, timeout-seconds: 30 }'),
      tested({ passedBy: 'port 8080 answered 200 on /healthz' }),
      URL_
    );
    expect(http?.configuration[1]?.annotations).toMatchObject({
      http: { port: 8080, path: '/healthz', status: 200 },
      expect: 'listening',
      timeoutSeconds: 30,
      waitedFor: 'HTTP 200 from GET /healthz on port 8080, with output matching /listening/'
    });
    expect(http?.passedTests).toEqual(['linux/amd64: port 8080 answered 200 on /healthz']);
    const up = testResultPredicate(smokeOf('{ args: ["serve"], up-seconds: 3 }'), tested({ passedBy: 'still running after 3 s' }), URL_);
    expect(up?.configuration[1]?.annotations).toMatchObject({ command: ['serve'], upSeconds: 3, passedBy: 'still running after 3 s' });
  });

  it('two tested platforms: each with its manifest digest; the subjects are the index and both manifests', () => {
    const two = [
      { platform: 'linux/amd64', manifest: DIGEST(5), exitCode: 0, passedBy: 'exited with code 0' },
      { platform: 'linux/arm64', manifest: DIGEST(6), exitCode: 0, passedBy: 'exited with code 0' }
    ];
    const p = testResultPredicate(smokeOf('["--version"]'), two, URL_);
    expect(p?.configuration.slice(1).map((c) => [c.name, c.digest?.sha256])).toEqual([
      ['linux/amd64', '5'.repeat(64)],
      ['linux/arm64', '6'.repeat(64)]
    ]);
    expect(testedDigests(DIGEST(9), two)).toEqual([DIGEST(9), DIGEST(5), DIGEST(6)]);
  });

  it('smoke: false, or nothing tested: no predicate (nothing PASSED to attest)', () => {
    expect(testResultPredicate({ enabled: false }, tested({}), URL_)).toBeUndefined();
    expect(testResultPredicate(smokeOf('["--version"]'), [], URL_)).toBeUndefined();
  });

  it('the run URL is GITHUB_SERVER_URL/REPO/actions/runs/ID/attempts/N', () => {
    expect(runUrl({ serverUrl: 'https://github.com', repository: 'example/tunnel', runId: '991', runAttempt: '2' })).toBe(URL_);
  });
});

const key: Exclude<SignSpec, { mode: 'false' }> = { mode: 'key', key: KEY, password: 'pw', transparencyLog: false };
const keyless: Exclude<SignSpec, { mode: 'false' }> = { mode: 'keyless', transparencyLog: true };
const RUN = { serverUrl: 'https://github.com', workflowRef: 'example/tunnel/.github/workflows/release.yml@refs/tags/v2.3.1' };

describe('cosign attest and verify command lines', () => {
  it('attest: the key only through the environment, the type, the predicate file, plain HTTP only for loopback', () => {
    expect(cosignAttestArgs(`localhost:5151/o/a@${M}`, key, '/t/p.json', '/t/sc.json')).toEqual([
      'attest',
      '--yes',
      '--key=env://GDP_COSIGN_KEY',
      '--signing-config=/t/sc.json',
      `--type=${TEST_RESULT_TYPE}`,
      '--predicate=/t/p.json',
      '--allow-http-registry',
      `localhost:5151/o/a@${M}`
    ]);
    expect(cosignAttestArgs(`ghcr.io/o/a@${M}`, keyless, '/t/p.json')).toEqual([
      'attest',
      '--yes',
      `--type=${TEST_RESULT_TYPE}`,
      '--predicate=/t/p.json',
      `ghcr.io/o/a@${M}`
    ]);
  });
  it('verify-attestation: with cosign.pub, or with this workflow’s identity and GitHub’s issuer', () => {
    expect(commandLine(cosignVerifyAttestationArgs(`ghcr.io/o/a@${M}`, TEST_RESULT_TYPE, verifierFor(key, RUN)))).toBe(
      `cosign verify-attestation --key cosign.pub --insecure-ignore-tlog --type=${TEST_RESULT_TYPE} ghcr.io/o/a@${M}`
    );
    expect(commandLine(cosignVerifyAttestationArgs(`ghcr.io/o/a@${M}`, TEST_RESULT_TYPE, verifierFor(keyless, RUN)))).toBe(
      `cosign verify-attestation --certificate-identity=https://github.com/${RUN.workflowRef} --certificate-oidc-issuer=https://token.actions.githubusercontent.com --type=${TEST_RESULT_TYPE} ghcr.io/o/a@${M}`
    );
  });
  it('gh attestation verify, from the registry: provenance by default, the test result by --predicate-type', () => {
    expect(ghVerifyCommands(`ghcr.io/o/a@${M}`, 'o/a', [SLSA_PROVENANCE_TYPE, TEST_RESULT_TYPE])).toEqual([
      `gh attestation verify oci://ghcr.io/o/a@${M} --repo o/a --bundle-from-oci`,
      `gh attestation verify oci://ghcr.io/o/a@${M} --repo o/a --bundle-from-oci --predicate-type ${TEST_RESULT_TYPE}`
    ]);
  });
  it('finds a statement of a type about a digest among downloaded bundles', () => {
    const line = (type: string, d: string) =>
      JSON.stringify({
        dsseEnvelope: {
          payload: Buffer.from(JSON.stringify({ predicateType: type, subject: [{ digest: { sha256: d.slice(7) } }] })).toString('base64')
        }
      });
    const out = `${line(SLSA_PROVENANCE_TYPE, DIGEST(9))}\n${line(TEST_RESULT_TYPE, DIGEST(5))}\n`;
    expect(hasStatementFor(out, TEST_RESULT_TYPE, DIGEST(5))).toBe(true);
    expect(hasStatementFor(out, TEST_RESULT_TYPE, DIGEST(9))).toBe(false);
    expect(hasStatementFor('not json\n', SLSA_PROVENANCE_TYPE, DIGEST(9))).toBe(false);
  });
});

const ctx = ctxFor('release-published');
const plan = (values: Record<string, string>) =>
  buildPlan(readInputs(get({ platforms: 'linux/amd64', cache: 'none', 'go-cache': 'false', ...values })), ctx, 'amd64');
const TOKEN_ENV = { ACTIONS_ID_TOKEN_REQUEST_URL: 'http://x', ACTIONS_ID_TOKEN_REQUEST_TOKEN: 't', GITHUB_WORKFLOW_REF: RUN.workflowRef };

describe('attest: github needs id-token: write and attestations: write, checked before anything runs', () => {
  it('names id-token: write without the runner’s token endpoint, attestations: write without a token', () => {
    const p = plan({ attest: 'github', 'github-token': 'gh-token' });
    expect(() => checkAttestingPossible(p, {})).toThrow(
      /^Input "attest": "github" is not valid here. Expected a job with "permissions: id-token: write" on GitHub Actions \(ACTIONS_ID_TOKEN_REQUEST_URL, ACTIONS_ID_TOKEN_REQUEST_TOKEN, GITHUB_WORKFLOW_REF not set\)/
    );
    expect(() => checkAttestingPossible(plan({ attest: 'github' }), TOKEN_ENV)).toThrow(
      /Expected a token with "permissions: attestations: write" in "github-token" \(it is empty\)/
    );
    expect(() => checkAttestingPossible(p, TOKEN_ENV)).not.toThrow();
    expect(() => checkAttestingPossible(plan({ attest: 'github', mode: 'platform' }), {})).not.toThrow();
  });
});

describe('a GitHub attestation that fails says what to set', () => {
  const step = 'Attesting ghcr.io/example/tunnel@sha256:9 (https://slsa.dev/provenance/v1) with GitHub’s artifact attestations';
  it('the attestations API refusing the token (403, as @actions/attest 3.2 reports it) names attestations: write', () => {
    const e = new Error(
      'Failed to persist attestation: Resource not accessible by integration - https://docs.github.com/rest/users/attestations#create-an-attestation'
    );
    expect(explainAttestFailure(e, step).message).toBe(
      `${step}: the attestations API refused the token (${e.message}). Give the job "permissions: attestations: write".`
    );
  });
  it('no OIDC token (the runner gave none) names id-token: write; another failure is said as it is', () => {
    const e = new Error('Failed to get ID token: Unable to get ACTIONS_ID_TOKEN_REQUEST_URL env variable');
    expect(explainAttestFailure(e, step).message).toBe(`${step}: ${e.message}. Give the job "permissions: id-token: write".`);
    expect(explainAttestFailure(new Error('connect ECONNREFUSED 127.0.0.1:1'), step).message).toBe(
      `${step}: connect ECONNREFUSED 127.0.0.1:1`
    );
  });
});

describe('attesting in a publish run, with a fake engine', () => {
  const hooks = { loggedIn: () => undefined, builderCreated: () => undefined };
  const env = (over: object = {}) => ({
    runId: '991-2',
    ghaCache: { reason: 'none here' },
    tempDir: mkdtempSync(join(tmpdir(), 'gdp-unit-')),
    signRun: { ...RUN, repository: 'example/tunnel', runId: '991', runAttempt: '2' },
    ...over
  });

  it('after signing: one attestation per repository and digest (index, tested platform), then every signature and attestation read back', async () => {
    const r = new FakeRunner(platformEngine('amd64'));
    const res = await runPipeline(plan({ sign: 'keyless' }), r, hooks, env());
    expect(res.error).toBeUndefined();
    const cosign = r.calls.filter((c) => c[0] === 'cosign').map((c) => `${c[1]} ${c.at(-1)}`);
    const [gh, hub] = ['ghcr.io/example/tunnel', 'docker.io/example/tunnel'];
    expect(cosign).toEqual([
      `sign ${gh}@${DIGEST(9)}`,
      `sign ${hub}@${DIGEST(9)}`,
      `attest ${gh}@${DIGEST(9)}`,
      `attest ${gh}@${DIGEST(5)}`,
      `attest ${hub}@${DIGEST(9)}`,
      `attest ${hub}@${DIGEST(5)}`,
      `verify ${gh}@${DIGEST(9)}`,
      `verify-attestation ${gh}@${DIGEST(9)}`,
      `verify-attestation ${gh}@${DIGEST(5)}`,
      `verify ${hub}@${DIGEST(9)}`,
      `verify-attestation ${hub}@${DIGEST(9)}`,
      `verify-attestation ${hub}@${DIGEST(5)}`
    ]);
    expect(res.images[0]?.attestations).toEqual([
      {
        predicateType: TEST_RESULT_TYPE,
        by: 'cosign',
        digests: [DIGEST(9), DIGEST(5)],
        verify: [gh, hub].flatMap((repo) =>
          [9, 5].map((n) => commandLine(cosignVerifyAttestationArgs(`${repo}@${DIGEST(n)}`, TEST_RESULT_TYPE, verifierFor(keyless, RUN))))
        )
      }
    ]);
  });

  it('with a key: the read-back verifies with the public half of the run’s key, given through the environment only', async () => {
    const r = new FakeRunner(platformEngine('amd64'));
    const res = await runPipeline(plan({ sign: 'key', 'cosign-key': KEY, 'cosign-password': 'pw' }), r, hooks, env());
    expect(res.error).toBeUndefined();
    const publicKey = r.calls.findIndex((c) => c[1] === 'public-key');
    expect(r.calls[publicKey]).toEqual([
      'cosign',
      'public-key',
      '--key=env://GDP_COSIGN_KEY',
      expect.stringMatching(/^--outfile=\/.*\/cosign\.pub$/)
    ]);
    const pub = (r.calls[publicKey]?.[3] ?? '').slice('--outfile='.length);
    expect(r.calls.find((c) => c[1] === 'verify')).toEqual(['cosign', 'verify', '--key', pub, `ghcr.io/example/tunnel@${DIGEST(9)}`]);
    expect(JSON.stringify(r.calls)).not.toContain('eyJrZGYi');
  });

  it('smoke: false gives no smoke-test attestation (the signature is still made and read back)', async () => {
    const r = new FakeRunner(platformEngine('amd64'));
    const res = await runPipeline(plan({ sign: 'keyless', images: '- name: ghcr.io/example/tunnel\n  smoke: false' }), r, hooks, env());
    expect(res.error).toBeUndefined();
    expect(r.calls.filter((c) => c[0] === 'cosign').map((c) => c[1])).toEqual(['sign', 'verify']);
    expect(res.images[0]?.attestations).toBeUndefined();
  });

  it('a signature the registry does not give back fails the step naming that registry, what was not found, and that the tags are pushed unsigned', async () => {
    const engine = platformEngine('amd64');
    const r = new FakeRunner((args) =>
      args[1] === 'verify' && args.at(-1)?.startsWith('docker.io/')
        ? { exitCode: 10, stderr: 'Error: no signatures found\nerror during command execution: no signatures found' }
        : engine(args)
    );
    const res = await runPipeline(plan({ sign: 'keyless', 'attest-smoke': 'false' }), r, hooks, env());
    expect(res.error?.message).toMatch(
      /^Reading back from docker\.io failed: the signature of docker\.io\/example\/tunnel@sha256:9{64} was not found there \(cosign verify .*: Error: no signatures found\)\. Its tags are already pushed, unsigned as a user of docker\.io sees them \(the pushed-tags output lists every pushed tag\): ghcr\.io\/example\/tunnel:v2\.3\.1, /
    );
    expect(res.pushedRefs).toHaveLength(4);
  });

  it('an attestation the registry does not give back fails the step naming that registry, the statement’s type and digest, and that the tags are pushed', async () => {
    const engine = platformEngine('amd64');
    const r = new FakeRunner((args) =>
      args[1] === 'verify-attestation' && args.at(-1) === `ghcr.io/example/tunnel@${DIGEST(5)}`
        ? { exitCode: 10, stderr: 'Error: no matching attestations: none of the attestations matched the predicate type' }
        : engine(args)
    );
    const res = await runPipeline(plan({ sign: 'keyless' }), r, hooks, env());
    expect(res.error?.message).toMatch(
      new RegExp(
        `^Reading back from ghcr\\.io failed: the attestation ${TEST_RESULT_TYPE.replace(/[./]/g, '\\$&')} of ghcr\\.io/example/tunnel@sha256:5{64} was not found there \\(cosign verify-attestation .*no matching attestations.*\\)\\. Its tags are already pushed`
      )
    );
  });

  it('attest: github: SLSA provenance of the index and the smoke-test statement of every tested digest, pushed beside them in every repository', async () => {
    const made: GithubAttestation[] = [];
    const engine = platformEngine('amd64');
    // The registry has, beside each digest, the bundle that was pushed there (cosign download attestation prints it).
    const r = new FakeRunner((args) => {
      if (args[1] !== 'download') return engine(args);
      const type = args.find((a) => a.startsWith('--predicate-type='))?.slice('--predicate-type='.length);
      const digest = (args.at(-1) ?? '').split('@')[1] ?? '';
      return { stdout: `${bundleLine(type ?? '', digest)}\n` };
    });
    const p = plan({ attest: 'github', 'github-token': 't' });
    const res = await runPipeline(p, r, hooks, env({ githubAttester: { attest: async (a: GithubAttestation) => void made.push(a) } }));
    expect(res.error).toBeUndefined();
    const repositories = ['ghcr.io/example/tunnel', 'docker.io/example/tunnel'];
    expect(made).toEqual([
      { name: 'ghcr.io/example/tunnel', digests: [DIGEST(9)], repositories, predicateType: SLSA_PROVENANCE_TYPE },
      {
        name: 'ghcr.io/example/tunnel',
        digests: [DIGEST(9), DIGEST(5)],
        repositories,
        predicateType: TEST_RESULT_TYPE,
        predicate: expect.objectContaining({ result: 'PASSED', url: 'https://github.com/example/tunnel/actions/runs/991/attempts/2' })
      }
    ]);
    // No sign mode: nothing through cosign but the read-back of what GitHub's attestations pushed (GitHub's own Sigstore: found, not verified).
    expect(r.calls.filter((c) => c[0] === 'cosign').map((c) => `${c.slice(1, 3).join(' ')} ${c.at(-1)}`)).toEqual(
      repositories.flatMap((repo) => [9, 9, 5].map((n) => `download attestation ${repo}@${DIGEST(n)}`))
    );
  });

  it('the dry run records the attestations in their place, after the signatures', async () => {
    const p = plan({ sign: 'keyless', attest: 'github', 'github-token': 't' });
    const { calls, result } = await recordedCommands(p);
    expect(result.error).toBeUndefined();
    const kinds = calls.filter((c) => c[0] === 'cosign' || c[0] === '@actions/attest').map((c) => `${c[0]} ${c[1]}`);
    expect(kinds.slice(0, 4)).toEqual(['cosign sign', 'cosign sign', 'cosign attest', 'cosign attest']);
    expect(kinds).toContain(`@actions/attest ${SLSA_PROVENANCE_TYPE}`);
    expect(kinds.indexOf(`@actions/attest ${TEST_RESULT_TYPE}`)).toBeLessThan(kinds.indexOf('cosign verify'));
    // The dry run's print: GitHub's attestations as what they are, not as docker commands.
    expect(describePlan(p, calls).split('\n')).toEqual(
      expect.arrayContaining([
        `  @actions/attest ${SLSA_PROVENANCE_TYPE} 'ghcr.io/example/tunnel@<index digest>'`,
        expect.stringMatching(
          new RegExp(
            `^  cosign verify-attestation --certificate-identity=\\S+ --certificate-oidc-issuer=\\S+ --type=${TEST_RESULT_TYPE} 'ghcr.io/example/tunnel@<index digest>'$`
          )
        )
      ])
    );
  });
});
