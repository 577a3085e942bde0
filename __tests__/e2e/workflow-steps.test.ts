// The action after the steps a workflow already has (both image stores): a login step's
// credentials in the workflow's Docker config (an `auths` entry, for a push and for the pull of a
// private base image; a credential helper), a BuildKit of the workflow's own (a `remote`-driver
// builder on a standalone buildkitd), build secrets and a private Go module fetched through a
// module proxy with basic auth. Asserted on the registry,
// the proxy's log, the images' bytes and the workflow's config file.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ModuleProxy, TEST_CA } from '../support/module-proxy.js';
import {
  BASE_REGISTRY,
  basicAuth,
  DOCKER_HOST,
  ENGINE,
  listTags,
  LOCAL_BASE_ARGS,
  platformManifests,
  registryGet,
  REGISTRY,
  REGISTRY2,
  REGISTRY2_PASSWORD,
  REGISTRY2_USER,
  REGISTRY_PASSWORD,
  REGISTRY_USER,
  ROOT,
  runAction,
  uniqueRepo,
  type ActionRun
} from './harness.js';

const BUILDKITD = process.env.GDP_BUILDKITD_ADDR ?? 'tcp://127.0.0.1:5160';
const FIXTURES = join(ROOT, 'fixtures');
const CRED_HELPER_DIR = join(ROOT, '__tests__/fixtures/credential-helper');

/** A workflow's Docker config directory, as its earlier steps leave it. */
function userDockerConfig(config: object = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'gdp-user-docker-'));
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  return dir;
}

function dockerAs(configDir: string, args: string[], input?: string): { status: number; out: string } {
  const r = spawnSync('docker', args, { input, encoding: 'utf8', env: { ...process.env, DOCKER_HOST, DOCKER_CONFIG: configDir } });
  return { status: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

const failedBecause = (r: ActionRun): string => (r.status === 0 ? '' : r.stdout.split('\n').slice(-30).join('\n'));
const errorOf = (r: ActionRun): string => r.stdout.split('\n').find((l) => l.startsWith('::error::')) ?? '';

/** Every blob an image index references (its manifests' configs and layers, the attestations'), as text, layers gunzipped. */
async function imageBytes(
  repo: string,
  tag: string,
  registry = REGISTRY,
  auth = basicAuth(REGISTRY_USER, REGISTRY_PASSWORD)
): Promise<string> {
  const index = (await registryGet(`${repo}/manifests/${tag}`, registry, auth)).json as { manifests: { digest: string }[] };
  const parts: string[] = [];
  for (const m of index.manifests) {
    const manifest = (await registryGet(`${repo}/manifests/${m.digest}`, registry, auth)).json as {
      config: { digest: string };
      layers: { digest: string; mediaType: string }[];
    };
    for (const blob of [manifest.config, ...manifest.layers]) {
      const url = `http://${registry.replace(/^localhost/, '127.0.0.1')}/v2/${repo}/blobs/${blob.digest}`;
      const body = Buffer.from(await (await fetch(url, { headers: { Authorization: auth } })).arrayBuffer());
      parts.push((body[0] === 0x1f && body[1] === 0x8b ? gunzipSync(body) : body).toString('latin1'));
    }
  }
  return parts.join('\n');
}

/** The lines of a private key file between its armor lines (what the action masks of an ssh key file). */
const keyBody = (path: string): string[] =>
  readFileSync(path, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('-----'));

describe(`after the workflow's own steps (${ENGINE} image store)`, () => {
  const ns = uniqueRepo('steps');
  const token = `mod-token-${Math.random().toString(36).slice(2)}`;
  const buildToken = `gdp-secret-${Math.random().toString(36).slice(2)}`;
  // The other secret inputs: one by a variable of the step (secret-envs), one in a file (secret-files), an SSH key (ssh).
  const envToken = `gdp-secret-env-${Math.random().toString(36).slice(2)}`;
  const fileToken = `gdp-secret-file-${Math.random().toString(36).slice(2)}`;
  const secretsDir = mkdtempSync(join(tmpdir(), 'gdp-secrets-'));
  const tokenFile = join(secretsDir, 'file-token');
  const sshKey = join(secretsDir, 'id_ed25519');
  /** What each build secret input carries (the module token aside). */
  const buildSecrets = [buildToken, envToken, fileToken];
  /** The SSH key's lines between its armor lines, read once it exists. */
  let keyLines: string[] = [];
  const proxy = new ModuleProxy({ username: 'gdp-mod', password: token });
  const builder = `gdp-e2e-remote-${ENGINE}-${Math.random().toString(36).slice(2, 8)}`;
  const privateBase = `${REGISTRY}/${ns}/base:1`;
  let configDir: string;
  let configBefore: Buffer;
  let run: ActionRun;

  beforeAll(
    async () => {
      await proxy.start();
      writeFileSync(tokenFile, `${fileToken}\n`);
      expect(spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'gdp-e2e', '-f', sshKey]).status).toBe(0);
      keyLines = keyBody(sshKey);
      // The workflow's earlier steps: `docker login` to the first registry; a stale, wrong login to
      // the second (the action's own login must win there); and a remote BuildKit as the current builder.
      configDir = userDockerConfig();
      expect(dockerAs(configDir, ['login', `--username=${REGISTRY_USER}`, '--password-stdin', REGISTRY], REGISTRY_PASSWORD).status).toBe(0);
      const cfg = JSON.parse(readFileSync(join(configDir, 'config.json'), 'utf8')) as { auths: Record<string, unknown> };
      cfg.auths[REGISTRY2] = { auth: Buffer.from(`${REGISTRY2_USER}:wrong-password`).toString('base64') };
      writeFileSync(join(configDir, 'config.json'), JSON.stringify(cfg, null, 2));
      // A private base image: in the first registry, which answers no pull without a login.
      const base = dockerAs(configDir, ['buildx', 'imagetools', 'create', `--tag=${privateBase}`, `${BASE_REGISTRY}/gdp/busybox:local`]);
      expect(base.status).toBe(0);
      const created = dockerAs(configDir, ['buildx', 'create', `--name=${builder}`, '--driver=remote', '--use', BUILDKITD]);
      expect(created.out).toContain(builder);
      configBefore = readFileSync(join(configDir, 'config.json'));
      run = await runAction({
        cwd: FIXTURES,
        inputs: {
          images: `
- names: [${REGISTRY}/${ns}/private, ${REGISTRY2}/${ns}/private]
  context: go-private
  dockerfile: go-private/Dockerfile
  platforms: linux/amd64,linux/arm64
  smoke: { args: ["--version"], expect: "^privateapp v2\\\\.3\\\\.1 linux/" }
- name: ${REGISTRY}/${ns}/secret
  context: go-private
  dockerfile: go-private/Dockerfile.secret
  platforms: linux/amd64
  build-args: {BASE_IMAGE: ${privateBase}}
`,
          'build-args': LOCAL_BASE_ARGS,
          registries: `- {registry: ${REGISTRY2}, username: ${REGISTRY2_USER}, password: ${REGISTRY2_PASSWORD}}`,
          cache: 'none',
          provenance: 'max',
          'go-private': 'gdp.example/acme/*',
          'go-private-token': token,
          'go-private-username': 'gdp-mod',
          'go-private-proxy': proxy.url,
          'secret-files': `gdp-ca=${TEST_CA}\nfile-token=${tokenFile}`,
          'secret-envs': 'env-token=GDP_E2E_ENV_TOKEN',
          ssh: `default=${sshKey}`,
          secrets: `build-token=${buildToken}`
        },
        event: 'release-published.json',
        eventName: 'release',
        ref: 'refs/tags/v2.3.1',
        env: { DOCKER_CONFIG: configDir, GDP_E2E_ENV_TOKEN: envToken }
      });
    },
    10 * 60 * 1000
  );

  afterAll(async () => {
    dockerAs(configDir, ['buildx', 'rm', builder]);
    await proxy.stop();
  });

  it('publishes with the earlier login and the remote builder, and the second registry with its own login', async () => {
    expect(failedBecause(run)).toBe('');
    expect(run.stdout).toContain(`Builder: using "${builder}": the current builder "${builder}" (driver remote)`);
    for (const [registry, auth] of [
      [REGISTRY, basicAuth(REGISTRY_USER, REGISTRY_PASSWORD)],
      [REGISTRY2, basicAuth(REGISTRY2_USER, REGISTRY2_PASSWORD)]
    ] as const) {
      expect(await listTags(`${ns}/private`, registry, auth)).toEqual(['latest', 'v2.3.1']);
    }
    expect(await listTags(`${ns}/secret`)).toEqual(['latest', 'v2.3.1']);
  });

  it('pulls the private base image with the earlier login: the image is built on its layers, and its provenance names it', async () => {
    // The registry answers this pull only with a login: the workflow's earlier one is all the action has for it.
    expect((await registryGet(`${ns}/base/manifests/1`, REGISTRY, '')).status).toBe(401);
    const layersOf = async (repo: string, ref: string): Promise<string[]> => {
      const index = (await registryGet(`${repo}/manifests/${ref}`)).json as {
        manifests?: { digest: string; platform?: { architecture: string } }[];
      };
      const amd64 = index.manifests?.find((m) => m.platform?.architecture === 'amd64')?.digest ?? ref;
      return ((await registryGet(`${repo}/manifests/${amd64}`)).json as { layers: { digest: string }[] }).layers.map((l) => l.digest);
    };
    const baseLayers = await layersOf(`${ns}/base`, '1');
    expect(baseLayers.length).toBeGreaterThan(0);
    expect((await layersOf(`${ns}/secret`, 'v2.3.1')).slice(0, baseLayers.length)).toEqual(baseLayers);
    // Its provenance (provenance: max) names that base image as a material, and not the public copy of its layers.
    const bytes = await imageBytes(`${ns}/secret`, 'v2.3.1');
    expect(bytes).toContain(`${REGISTRY}/${ns}/base`);
    expect(bytes).not.toContain(`${BASE_REGISTRY}/gdp/busybox`);
  });

  it('what the remote builder pushed is what was tested, every platform', async () => {
    const images = JSON.parse(run.outputs.images ?? '[]') as { tested: Record<string, string> }[];
    const manifests = await platformManifests(`${ns}/private`, 'v2.3.1');
    expect(Object.keys(manifests).sort()).toEqual(['linux/amd64', 'linux/arm64']);
    const manifest = manifests['linux/amd64'] ?? '';
    const config = ((await registryGet(`${ns}/private/manifests/${manifest}`)).json as { config: { digest: string } }).config.digest;
    expect(images[0]?.tested).toEqual({ 'linux/amd64': ENGINE === 'classic' ? config : manifest });
  });

  it("leaves the workflow's Docker config file as it was, byte for byte, and its builder in place", () => {
    expect(run.post?.status).toBe(0);
    expect(readFileSync(join(configDir, 'config.json')).equals(configBefore)).toBe(true);
    expect(dockerAs(configDir, ['buildx', 'inspect', builder]).out).toMatch(/Driver:\s+remote/);
    expect(run.post?.stdout).not.toContain(`Removed builder ${builder}`);
  });

  it('fetched the private module through the proxy with the token, and no token reached a log line but its mask', () => {
    expect(proxy.served()).toEqual(expect.arrayContaining(['/gdp.example/acme/greet/@v/v1.2.0.zip']));
    expect(proxy.requests.filter((r) => r.status === 200).every((r) => r.authorized && r.user === 'gdp-mod')).toBe(true);
    for (const secret of [token, ...buildSecrets]) {
      expect(run.stdout.split('\n').filter((l) => l.includes(secret))).toEqual([`::add-mask::${secret}`]);
    }
    // The SSH key's lines (not its armor) are masks too, and nothing else of the run holds them.
    expect(keyLines.length).toBeGreaterThan(0);
    for (const line of keyLines) expect(run.stdout.split('\n').filter((l) => l.includes(line))).toEqual([`::add-mask::${line}`]);
  });

  it('the token and every build secret (secrets, secret-envs, secret-files, the ssh key) are in no layer, image config, history or provenance attestation (provenance: max)', async () => {
    const privateBytes = await imageBytes(`${ns}/private`, 'v2.3.1');
    expect(privateBytes).toContain('https://slsa.dev/provenance'); // the attestation was read
    expect(privateBytes).toContain('privateapp'); // and the image's own files
    const secretBytes = await imageBytes(`${ns}/secret`, 'v2.3.1');
    // The secret image was built only because every secret and the SSH agent reached its RUN step.
    expect(secretBytes).toContain('build-token, env-token, file-token, ssh: checked');
    for (const bytes of [privateBytes, secretBytes]) {
      for (const secret of [token, ...buildSecrets, ...keyLines]) expect(bytes.includes(secret)).toBe(false);
    }
    // The engine keeps no tag of what it smoke-tested: the history of each image as pushed.
    const historyOf = (repo: string): string => {
      const ref = `${REGISTRY}/${ns}/${repo}:v2.3.1`;
      expect(dockerAs(configDir, ['pull', '--platform=linux/amd64', ref]).status).toBe(0);
      const history = dockerAs(configDir, ['history', '--no-trunc', ref]);
      expect(history.status).toBe(0);
      return history.out;
    };
    expect(historyOf('private').includes(token)).toBe(false);
    const secretHistory = historyOf('secret');
    for (const secret of buildSecrets) expect(secretHistory.includes(secret)).toBe(false);
  });
});

describe(`a credential helper, and no credentials at all (${ENGINE} image store)`, () => {
  const ns = uniqueRepo('creds');
  const publish = (env: Record<string, string>, extra: Record<string, string> = {}): Promise<ActionRun> =>
    runAction({
      inputs: {
        images: `- name: ${REGISTRY}/${ns}/server\n  smoke: ["--version"]`,
        platforms: 'linux/amd64',
        cache: 'none',
        'build-args': LOCAL_BASE_ARGS,
        ...extra
      },
      event: 'release-published.json',
      eventName: 'release',
      ref: 'refs/tags/v2.3.1',
      env
    });

  it(
    'publishes through the credential helper the workflow named in credHelpers',
    async () => {
      const configDir = userDockerConfig({ credHelpers: { [REGISTRY]: 'gdptest' } });
      const log = join(configDir, 'helper.log');
      const run = await publish({
        DOCKER_CONFIG: configDir,
        PATH: `${CRED_HELPER_DIR}:${process.env.PATH ?? ''}`,
        GDP_CREDHELPER_USER: REGISTRY_USER,
        GDP_CREDHELPER_SECRET: REGISTRY_PASSWORD,
        GDP_CREDHELPER_LOG: log
      });
      expect(failedBecause(run)).toBe('');
      expect(await listTags(`${ns}/server`)).toEqual(['latest', 'v2.3.1']);
      const calls = readFileSync(log, 'utf8').split('\n').filter(Boolean);
      expect(calls).toContain(`get ${REGISTRY}`);
      expect(calls.filter((c) => !c.startsWith('get '))).toEqual([]); // never a store or erase
    },
    5 * 60 * 1000
  );

  it(
    'with no credentials for an auth’d registry: a notice at the start, then the push fails naming the registry and both ways to give credentials, and nothing is tagged',
    async () => {
      const run = await publish(
        { DOCKER_CONFIG: userDockerConfig() },
        { images: `- name: ${REGISTRY}/${ns}/nocreds\n  smoke: ["--version"]` }
      );
      expect(run.status).not.toBe(0);
      expect(run.stdout).toContain(`::notice::No credentials for ${REGISTRY}`);
      expect(errorOf(run)).toMatch(
        new RegExp(
          `^::error::Registry ${REGISTRY.replace(/\./g, '\\.')} refused the push of ${REGISTRY}/${ns}/nocreds for linux/amd64 on the runner \\(401 Unauthorized\\)\\. .*a login step before this one.*the "registries" input`
        )
      );
      expect(run.outputs['pushed-tags']).toBe('');
      expect(await listTags(`${ns}/nocreds`)).toEqual([]);
    },
    5 * 60 * 1000
  );

  it(
    'a private module without go-private-token: the build fails naming the module fetch and what to set',
    async () => {
      const proxy = new ModuleProxy({ username: 'gdp-mod', password: 'unused' });
      await proxy.start();
      try {
        const run = await runAction({
          cwd: FIXTURES,
          inputs: {
            images: `- {name: ${REGISTRY}/${ns}/private, context: go-private, dockerfile: go-private/Dockerfile}`,
            platforms: 'linux/amd64',
            cache: 'none',
            'build-args': LOCAL_BASE_ARGS,
            // The private modules named, as in the run above, but no token: no netrc secret.
            'go-private': 'gdp.example/acme/*',
            'go-private-username': 'gdp-mod',
            'go-private-proxy': proxy.url,
            'secret-files': `gdp-ca=${TEST_CA}`,
            push: 'false'
          },
          event: 'release-published.json',
          eventName: 'release',
          ref: 'refs/tags/v2.3.1'
        });
        expect(run.status).not.toBe(0);
        expect(errorOf(run)).toMatch(
          /^::error::The build of .*\/private for linux\/amd64 on the runner failed: Go could not fetch the module gdp\.example\/acme\/greet \(401 Unauthorized from https:\/\/127\.0\.0\.1:\d+\/gdp\.example\/acme\/greet\/@v\/v1\.2\.0\.mod\): a private module needs go-private/
        );
        expect(proxy.requests.some((r) => !r.authorized && r.status === 401)).toBe(true);
      } finally {
        await proxy.stop();
      }
    },
    5 * 60 * 1000
  );
});
