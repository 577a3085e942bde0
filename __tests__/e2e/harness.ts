// Runs the bundled action (dist/index.js) the way a GitHub runner does: INPUT_* variables, an
// event payload file, GITHUB_OUTPUT / GITHUB_STATE / GITHUB_STEP_SUMMARY files, then the post
// step with the saved state. A `docker` to put first on the action's PATH that records each call
// (and fails, or runs the real one). And reads the local test registry back over its HTTP API.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const FIXTURE = join(ROOT, 'fixtures/go-app');
export const EVENTS = join(ROOT, '__tests__/fixtures/events');
export const REGISTRY = process.env.GDP_REGISTRY ?? 'localhost:5151';
export const REGISTRY_USER = process.env.GDP_REGISTRY_USER ?? 'gdp';
export const REGISTRY_PASSWORD = process.env.GDP_REGISTRY_PASSWORD ?? 'gdp-test-password';
export const REGISTRY2 = process.env.GDP_REGISTRY2 ?? 'localhost:5152';
export const REGISTRY2_USER = process.env.GDP_REGISTRY2_USER ?? 'gdp2';
export const REGISTRY2_PASSWORD = process.env.GDP_REGISTRY2_PASSWORD ?? 'gdp2-other-password';

/** Inputs every publishing test shares: the local base images and the test registry's login. */
export function localPublishInputs(): Record<string, string> {
  return { 'build-args': LOCAL_BASE_ARGS, registry: REGISTRY, username: REGISTRY_USER, password: REGISTRY_PASSWORD };
}

export function basicAuth(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}
/** Base images made by scripts/base-images.sh, in the anonymous registry (nothing can be pulled from outside). */
export const BASE_REGISTRY = process.env.GDP_BASE_REGISTRY ?? 'localhost:5150';
export const LOCAL_BASE_ARGS = `GO_IMAGE=${BASE_REGISTRY}/gdp/golang:local\nBASE_IMAGE=${BASE_REGISTRY}/gdp/busybox:local`;

/**
 * The engine this e2e project runs on (jest.config.js sets globals.GDP_ENGINE per project):
 * classic, the image store of GitHub's ubuntu-latest, or containerd (ubuntu-26.04, Docker 29).
 */
export type Engine = 'classic' | 'containerd';
export const ENGINE: Engine = (globalThis as { GDP_ENGINE?: Engine }).GDP_ENGINE ?? 'classic';
export const ENGINE_HOSTS: Record<Engine, string> = {
  classic: process.env.GDP_CLASSIC_HOST ?? 'unix:///var/run/docker.sock',
  containerd: process.env.GDP_CONTAINERD_HOST ?? 'unix:///var/run/gdp-containerd/docker.sock'
};
export const DOCKER_HOST = ENGINE_HOSTS[ENGINE];

export interface ActionRun {
  status: number;
  stdout: string;
  outputs: Record<string, string>;
  summary: string;
  state: Record<string, string>;
  /** The post step; `summary` is the job summary once it ran (post adds the caches it could not save). */
  post?: { status: number; stdout: string; summary: string };
}

export interface RunOptions {
  inputs: Record<string, string>;
  event: string; // file name in __tests__/fixtures/events, or a path
  eventName: string;
  ref?: string;
  sha?: string;
  cwd?: string;
  env?: Record<string, string>;
  post?: boolean;
}

export function parseFileCommands(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^([^<=]+)<<(.+)$/.exec(lines[i] ?? '');
    if (!m || !m[1] || !m[2]) continue;
    const value: string[] = [];
    for (i++; i < lines.length && lines[i] !== m[2]; i++) value.push(lines[i] ?? '');
    out[m[1]] = value.join('\n');
  }
  return out;
}

/** Runs node on dist/index.js without blocking this process (tests serve HTTP from it). */
function runNode(cwd: string, env: Record<string, string>): Promise<{ status: number; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'dist/index.js')], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ status: code ?? -1, out }));
  });
}

export async function runAction(o: RunOptions): Promise<ActionRun> {
  const dir = mkdtempSync(join(tmpdir(), 'gdp-e2e-'));
  const files = {
    output: join(dir, 'output'),
    state: join(dir, 'state'),
    summary: join(dir, 'summary'),
    env: join(dir, 'env'),
    path: join(dir, 'path')
  };
  for (const f of Object.values(files)) writeFileSync(f, '');
  const eventPath = o.event.includes('/') ? o.event : join(EVENTS, o.event);
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/root',
    GITHUB_ACTIONS: 'true',
    GITHUB_EVENT_NAME: o.eventName,
    GITHUB_EVENT_PATH: eventPath,
    GITHUB_REF: o.ref ?? '',
    GITHUB_SHA: o.sha ?? '3f786850e387550fdab836ed7e6dc881de23001b',
    GITHUB_REPOSITORY: 'example/tunnel',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_RUN_ID: String(Date.now()),
    GITHUB_WORKSPACE: o.cwd ?? FIXTURE,
    GITHUB_OUTPUT: files.output,
    GITHUB_STATE: files.state,
    GITHUB_STEP_SUMMARY: files.summary,
    GITHUB_ENV: files.env,
    GITHUB_PATH: files.path,
    RUNNER_TEMP: dir,
    DOCKER_HOST,
    ...o.env
  };
  for (const [k, v] of Object.entries(o.inputs)) env[`INPUT_${k.toUpperCase()}`] = v;
  const main = await runNode(o.cwd ?? FIXTURE, env);
  const state = parseFileCommands(readFileSync(files.state, 'utf8'));
  const run: ActionRun = {
    status: main.status,
    stdout: main.out,
    outputs: parseFileCommands(readFileSync(files.output, 'utf8')),
    summary: readFileSync(files.summary, 'utf8'),
    state
  };
  if (o.post !== false) {
    const postEnv = { ...env };
    for (const [k, v] of Object.entries(state)) postEnv[`STATE_${k}`] = v;
    const p = await runNode(o.cwd ?? FIXTURE, postEnv);
    run.post = { status: p.status, stdout: p.out, summary: readFileSync(files.summary, 'utf8') };
  }
  return run;
}

/** A `docker` on PATH that records that it ran and fails: for tests where nothing may run. */
export function trapDockerPath(): { path: string; marker: string } {
  const dir = mkdtempSync(join(tmpdir(), 'gdp-trap-'));
  const marker = join(dir, 'docker-ran');
  writeFileSync(join(dir, 'docker'), `#!/bin/sh\necho "$@" >> ${marker}\nexit 99\n`);
  chmodSync(join(dir, 'docker'), 0o755);
  return { path: `${dir}:${process.env.PATH ?? ''}`, marker };
}

/**
 * A `docker` on PATH that records every call, then runs the real one: `calls()` lists each as
 * `{ config, args }`, config being the DOCKER_CONFIG it ran with (the action's own, or '').
 */
export function recordDockerPath(): { path: string; calls: () => { config: string; args: string }[] } {
  const real = spawnSync('sh', ['-c', 'command -v docker'], { encoding: 'utf8' }).stdout.trim();
  if (!real) throw new Error('recordDockerPath: no docker on PATH');
  const dir = mkdtempSync(join(tmpdir(), 'gdp-record-'));
  const log = join(dir, 'docker-calls');
  writeFileSync(log, '');
  writeFileSync(join(dir, 'docker'), `#!/bin/sh\nprintf '%s\\t%s\\n' "\${DOCKER_CONFIG:-}" "$*" >> ${log}\nexec ${real} "$@"\n`);
  chmodSync(join(dir, 'docker'), 0o755);
  const calls = (): { config: string; args: string }[] =>
    readFileSync(log, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => {
        const [config = '', ...rest] = l.split('\t');
        return { config, args: rest.join('\t') };
      });
  return { path: `${dir}:${process.env.PATH ?? ''}`, calls };
}

const auth = basicAuth(REGISTRY_USER, REGISTRY_PASSWORD);
const ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json'
].join(', ');

export async function registryGet(
  path: string,
  registry = REGISTRY,
  authHeader = auth
): Promise<{ status: number; json: unknown; digest: string | null }> {
  const url = `http://${registry.replace(/^localhost/, '127.0.0.1')}/v2/${path}`;
  const r = await fetch(url, { headers: { Authorization: authHeader, Accept: ACCEPT } });
  const text = await r.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: r.status, json, digest: r.headers.get('docker-content-digest') };
}

export async function listTags(repo: string, registry = REGISTRY, authHeader = auth): Promise<string[]> {
  const r = await registryGet(`${repo}/tags/list`, registry, authHeader);
  if (r.status === 404) return [];
  return ((r.json as { tags?: string[] | null }).tags ?? []).slice().sort();
}

interface Descriptor {
  digest: string;
  platform?: { os: string; architecture: string; variant?: string };
}

/** Platforms of an index, without provenance attestations (unknown/unknown). */
/** platform → manifest digest of repo:tag in the registry, without provenance attestations (unknown/unknown). */
export async function platformManifests(repo: string, tag: string): Promise<Record<string, string>> {
  const r = await registryGet(`${repo}/manifests/${tag}`);
  if (r.status !== 200) throw new Error(`GET ${repo}:${tag} from the registry: ${r.status} ${JSON.stringify(r.json)}`);
  const idx = r.json as { manifests?: Descriptor[] };
  return Object.fromEntries(
    (idx.manifests ?? [])
      .filter((d) => d.platform && d.platform.os !== 'unknown')
      .map((d) => [[d.platform?.os, d.platform?.architecture, d.platform?.variant].filter(Boolean).join('/'), d.digest])
  );
}

/** Platforms of an index, without provenance attestations. */
export async function indexPlatforms(repo: string, tag: string): Promise<string[]> {
  return Object.keys(await platformManifests(repo, tag)).sort();
}

/** The labels of one platform's image config. */
export async function imageLabels(repo: string, tag: string, platform = 'linux/amd64'): Promise<Record<string, string>> {
  const idx = (await registryGet(`${repo}/manifests/${tag}`)).json as { manifests?: Descriptor[] };
  const [os, arch] = platform.split('/');
  const d = (idx.manifests ?? []).find((m) => m.platform?.os === os && m.platform?.architecture === arch);
  if (!d) throw new Error(`no ${platform} manifest in ${repo}:${tag}`);
  const m = (await registryGet(`${repo}/manifests/${d.digest}`)).json as { config: { digest: string } };
  const cfg = (await registryGet(`${repo}/blobs/${m.config.digest}`)).json as { config?: { Labels?: Record<string, string> } };
  return cfg.config?.Labels ?? {};
}

export function uniqueRepo(prefix: string): string {
  return `e2e-${prefix}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
}

/**
 * The tests' own Docker config, logged in to both test registries (as a user pulling a release
 * would be): never the runner user's, which the action must leave alone.
 */
export const TEST_DOCKER_CONFIG = mkdtempSync(join(tmpdir(), 'gdp-e2e-docker-'));
writeFileSync(
  join(TEST_DOCKER_CONFIG, 'config.json'),
  JSON.stringify({
    auths: Object.fromEntries(
      [
        [REGISTRY, REGISTRY_USER, REGISTRY_PASSWORD],
        [REGISTRY2, REGISTRY2_USER, REGISTRY2_PASSWORD]
      ].map(([r, u, p]) => [r, { auth: Buffer.from(`${u}:${p}`).toString('base64') }])
    )
  })
);

// The buildx builders the action sees (its DOCKER_CONFIG is its own, BUILDX_CONFIG the user's).
const BUILDX_CONFIG = process.env.BUILDX_CONFIG ?? join(process.env.HOME ?? '/root', '.docker', 'buildx');

/** docker with the engine of this project and the tests' config (`--pull=always` reads the registry). */
export function docker(args: string[], env?: Record<string, string>): { status: number; out: string } {
  const r = spawnSync('docker', args, {
    encoding: 'utf8',
    env: { ...process.env, DOCKER_HOST, DOCKER_CONFIG: TEST_DOCKER_CONFIG, BUILDX_CONFIG, ...env }
  });
  return { status: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}
