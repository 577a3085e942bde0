// Signing: the inputs, the cosign command lines and their environment (keyless cannot reach a
// Sigstore service here: these are its tests), the verify commands, and a publish run through the
// pipeline that signs after every tag, or fails saying the tags are already pushed.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { readInputs } from '../../src/inputs/index.js';
import { buildPlan } from '../../src/plan/plan.js';
import { cosignEnv, cosignSignArgs, GITHUB_OIDC_ISSUER, isLoopbackRegistry } from '../../src/plan/sign.js';
import { verifyCommand } from '../../src/plan/verify.js';
import type { SignSpec } from '../../src/plan/types.js';
import { runPipeline } from '../../src/run/pipeline.js';
import { recordedCommands } from '../support/dry-run.js';
import { DIGEST, platformEngine } from '../support/fake-engine.js';
import { FakeRunner } from '../support/fake-runner.js';
import { ctxFor, SHA } from '../support/plan-inputs.js';

const KEY =
  '-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\neyJrZGYiOnsibmFtZSI6InNjcnlwdCJ9fQ==\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n';
const get =
  (values: Record<string, string>) =>
  (name: string): string =>
    values[name] ?? (name === 'images' ? '- names: [ghcr.io/example/tunnel, docker.io/example/tunnel]' : '');

describe('sign inputs', () => {
  it('defaults to no signing, provenance min and no SBOM', () => {
    const i = readInputs(get({}));
    expect([i.sign, i.provenance, i.sbom]).toEqual([{ mode: 'false' }, 'min', false]);
  });
  it('reads keyless, and key with its password and the transparency log switch', () => {
    expect(readInputs(get({ sign: 'keyless' })).sign).toEqual({ mode: 'keyless', transparencyLog: true });
    expect(readInputs(get({ sign: 'key', 'cosign-key': KEY, 'cosign-password': 'pw', 'transparency-log': 'false' })).sign).toEqual({
      mode: 'key',
      key: KEY.trim(),
      password: 'pw',
      transparencyLog: false
    });
    expect(readInputs(get({ provenance: 'max', sbom: 'true' }))).toMatchObject({ provenance: 'max', sbom: true });
  });
  it.each([
    [{ sign: 'yes' }, /Input "sign": "yes" is not valid. Expected "false" \| "keyless" \| "key"/],
    [{ sign: 'key' }, /Input "cosign-key": "" is not valid. Expected the cosign private key/],
    [{ sign: 'key', 'cosign-key': 'hunter2' }, /Input "cosign-key": "\(not shown\)" is not valid. Expected a PEM private key/],
    [{ 'cosign-key': KEY }, /Input "cosign-key": "\(not shown\)" is not valid. Expected nothing unless sign is "key"/],
    [{ sign: 'keyless', 'transparency-log': 'false' }, /Input "transparency-log": "false" is not valid. Expected true with sign: keyless/],
    [{ provenance: 'full' }, /Input "provenance": "full" is not valid. Expected "min" \| "max" \| "false"/]
  ])('refuses %j, never showing a key', (values, msg) => {
    let message = '';
    try {
      readInputs(get(values));
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(msg);
    expect(message).not.toContain('eyJrZGYi');
    expect(message).not.toContain('hunter2');
  });
});

const key: Exclude<SignSpec, { mode: 'false' }> = { mode: 'key', key: KEY, password: 'pw', transparencyLog: true };
const keyless: Exclude<SignSpec, { mode: 'false' }> = { mode: 'keyless', transparencyLog: true };
const REF = `ghcr.io/example/tunnel@${DIGEST(9)}`;

describe('cosign command lines', () => {
  it('keyless: the digest, no key, no flag for the OIDC token (cosign reads the runner’s ACTIONS_ID_TOKEN_* itself), no extra environment', () => {
    expect(cosignSignArgs(REF, keyless)).toEqual(['sign', '--yes', REF]);
    expect(cosignEnv(keyless)).toEqual({});
  });
  it('key: the key and its password reach cosign through the environment only', () => {
    const args = cosignSignArgs(REF, key);
    expect(args).toEqual(['sign', '--yes', '--key=env://GDP_COSIGN_KEY', REF]);
    expect(args.join(' ')).not.toContain('eyJrZGYi');
    expect(cosignEnv(key)).toEqual({ GDP_COSIGN_KEY: KEY, COSIGN_PASSWORD: 'pw' });
  });
  it('without a transparency log: a signing config with no services; plain HTTP only for a loopback registry', () => {
    expect(cosignSignArgs(`localhost:5151/o/a@${DIGEST(1)}`, { ...key, transparencyLog: false }, '/tmp/sc.json')).toEqual([
      'sign',
      '--yes',
      '--key=env://GDP_COSIGN_KEY',
      '--signing-config=/tmp/sc.json',
      '--allow-http-registry',
      `localhost:5151/o/a@${DIGEST(1)}`
    ]);
    expect(
      ['localhost:5000/a', '127.0.0.1/a', '[::1]:5000/a', 'ghcr.io/a', 'localhost.example.com/a', '10.0.0.1:5000/a'].map(isLoopbackRegistry)
    ).toEqual([true, true, true, false, false, false]);
  });
  it('verify commands: the certificate names this repository’s workflow; a key checks against cosign.pub', () => {
    const run = { serverUrl: 'https://github.com', workflowRef: 'example/tunnel/.github/workflows/release.yml@refs/tags/v2.3.1' };
    expect(verifyCommand(REF, keyless, run)).toBe(
      `cosign verify --certificate-identity=https://github.com/example/tunnel/.github/workflows/release.yml@refs/tags/v2.3.1 --certificate-oidc-issuer=${GITHUB_OIDC_ISSUER} ${REF}`
    );
    expect(verifyCommand(REF, key, run)).toBe(`cosign verify --key cosign.pub ${REF}`);
    expect(verifyCommand(`localhost:5151/o/a@${DIGEST(1)}`, { ...key, transparencyLog: false }, run)).toBe(
      `cosign verify --key cosign.pub --insecure-ignore-tlog --allow-http-registry localhost:5151/o/a@${DIGEST(1)}`
    );
  });
});

const ctx = ctxFor('release-published');

describe('signing in a publish run, with a fake engine', () => {
  const hooks = { loggedIn: () => undefined, builderCreated: () => undefined };
  const env = {
    runId: '1',
    ghaCache: { reason: 'none here' },
    tempDir: mkdtempSync(join(tmpdir(), 'gdp-unit-')),
    signRun: { serverUrl: 'https://github.com', workflowRef: 'example/tunnel/.github/workflows/release.yml@refs/tags/v2.3.1' }
  };
  const plan = (values: Record<string, string>) =>
    buildPlan(readInputs(get({ platforms: 'linux/amd64', cache: 'none', 'go-cache': 'false', ...values })), ctx, 'amd64');

  it('signs the index digest in every repository after every tag is created, and reports how to verify it', async () => {
    const r = new FakeRunner(platformEngine('amd64'));
    const res = await runPipeline(plan({ sign: 'keyless' }), r, hooks, env);
    expect(res.error).toBeUndefined();
    const lastTag = r.calls.map((c) => c[2]).lastIndexOf('create');
    const signs = r.calls.flatMap((c, i) => (c[0] === 'cosign' && c[1] === 'sign' ? [i] : []));
    expect(signs).toHaveLength(2);
    expect(signs.every((i) => i > lastTag)).toBe(true);
    expect(r.calls.filter((c) => c[0] === 'cosign' && c[1] === 'sign')).toEqual([
      ['cosign', 'sign', '--yes', `ghcr.io/example/tunnel@${DIGEST(9)}`],
      ['cosign', 'sign', '--yes', `docker.io/example/tunnel@${DIGEST(9)}`]
    ]);
    expect(res.images[0]?.signature?.digest).toBe(DIGEST(9));
    expect(res.images[0]?.signature?.verify[0]).toMatch(
      /^cosign verify --certificate-identity=https:\/\/github.com\/example\/tunnel\/\.github\/workflows\/release\.yml@refs\/tags\/v2\.3\.1 /
    );
  });

  it('a signing failure fails the step and says the tags are already pushed, unsigned', async () => {
    const engine = platformEngine('amd64');
    const r = new FakeRunner((args) => (args[0] === 'cosign' ? { exitCode: 1, stderr: 'Error: signing: 401 Unauthorized' } : engine(args)));
    const res = await runPipeline(plan({ sign: 'key', 'cosign-key': KEY }), r, hooks, env);
    expect(res.error?.message).toMatch(
      /^Signing ghcr\.io\/example\/tunnel failed: .*401 Unauthorized.*Its tags are already pushed, unsigned \(the pushed-tags output lists every pushed tag\): ghcr\.io\/example\/tunnel:v2\.3\.1, /
    );
    expect(res.pushedRefs).toHaveLength(4);
    expect(r.cosignEnvs[0]).toEqual({ GDP_COSIGN_KEY: KEY.trim(), COSIGN_PASSWORD: '' });
  });

  it('a platform run signs nothing (the merge job signs the index)', async () => {
    const r = new FakeRunner(platformEngine('amd64'));
    const res = await runPipeline(plan({ sign: 'keyless', mode: 'platform' }), r, hooks, {
      ...env,
      workflowRun: { id: '5', attempt: '1', sha: SHA },
      cacheStore: { available: () => true, restore: async () => undefined, save: async () => ({ saved: true }) }
    });
    expect(res.error).toBeUndefined();
    expect(r.calls.filter((c) => c[0] === 'cosign')).toEqual([]);
  });

  it('the dry run lists the cosign commands after the tags, with no key in them', async () => {
    const { calls: cmds } = await recordedCommands(plan({ sign: 'key', 'cosign-key': KEY, 'transparency-log': 'false' }));
    expect(cmds.filter((c) => c[0] === 'cosign' && c[1] === 'sign')).toEqual(
      ['ghcr.io/example/tunnel', 'docker.io/example/tunnel'].map((r) => [
        'cosign',
        'sign',
        '--yes',
        '--key=env://GDP_COSIGN_KEY',
        expect.stringMatching(/^--signing-config=\/.*\/signing-config\.json$/),
        `${r}@<index digest>`
      ])
    );
    expect(cmds.findIndex((c) => c[0] === 'cosign')).toBeGreaterThan(cmds.map((c) => c[2]).lastIndexOf('create'));
    expect(JSON.stringify(cmds)).not.toContain('eyJrZGYi');
  });

  it('push by digest carries the provenance and SBOM inputs', async () => {
    const r = new FakeRunner(platformEngine('amd64'));
    await runPipeline(plan({ provenance: 'max', sbom: 'true' }), r, hooks, env);
    const push = r.calls.find((c) => c.some((a) => a.includes('push-by-digest=true'))) ?? [];
    expect(push.filter((a) => a.startsWith('--provenance') || a.startsWith('--sbom'))).toEqual(['--provenance=mode=max', '--sbom=true']);
  });
});
