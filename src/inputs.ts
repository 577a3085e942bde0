// Reads and validates the action's inputs. Pure: takes a getter (core.getInput in the action,
// a map in tests) and returns typed Inputs, or throws an InputError naming the input, the bad
// value and the expected form. Nothing here runs a command or touches the network.
import { existsSync, statSync } from 'node:fs';
import { posix, relative, resolve, isAbsolute } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { BuilderEndpoint, ImageInput, Inputs, RegistryLogin, SignSpec, SmokeSpec, SmokeWait, Tristate } from './plan/types.js';

export class InputError extends Error {
  constructor(input: string, value: unknown, expected: string) {
    super(`Input "${input}": ${describe(value)} is not valid. Expected ${expected}.`);
    this.name = 'InputError';
  }
}

export type InputGetter = (name: string) => string;

export const DEFAULT_PLATFORMS = ['linux/amd64', 'linux/arm64'];
export const DEFAULT_SMOKE_TIMEOUT_SECONDS = 60;
/** How long the image's own command (a server) must stay up, with no HEALTHCHECK and no `http`. */
export const DEFAULT_UP_SECONDS = 5;

/** Platforms BuildKit can build for Linux, written as buildx expects them. */
const KNOWN_PLATFORMS = new Set([
  'linux/amd64',
  'linux/amd64/v2',
  'linux/amd64/v3',
  'linux/amd64/v4',
  'linux/arm64',
  'linux/arm64/v8',
  'linux/arm/v5',
  'linux/arm/v6',
  'linux/arm/v7',
  'linux/386',
  'linux/ppc64le',
  'linux/ppc64',
  'linux/s390x',
  'linux/riscv64',
  'linux/mips64le',
  'linux/mips64',
  'linux/loong64'
]);

const IMAGE_KEYS = new Set([
  'name',
  'names',
  'dockerfile',
  'context',
  'target',
  'platforms',
  'build-args',
  'labels',
  'smoke',
  'cache-scope'
]);
const SMOKE_KEYS = new Set(['args', 'entrypoint', 'env', 'expect', 'timeout-seconds', 'up-seconds', 'http']);
const HTTP_KEYS = new Set(['port', 'path', 'status']);
const REGISTRY_KEYS = new Set(['registry', 'username', 'password']);

const IMAGES_SHAPE =
  'a YAML list of images, each a map with "name" (or "names", a list) and optional "dockerfile", ' +
  '"context", "target", "platforms", "build-args", "labels", "smoke", "cache-scope"; ' +
  'e.g. "- name: ghcr.io/org/app\\n  dockerfile: Dockerfile"';

export function readInputs(get: InputGetter): Inputs {
  const platforms = parsePlatforms('platforms', get('platforms'), DEFAULT_PLATFORMS);
  const images = parseImages(get('images'));
  // Unset is ''; a value of only white space is passed on, and the tag rules reject it by name.
  const rawVersion = get('version');
  const version = rawVersion === '' ? undefined : rawVersion;
  return {
    images,
    platforms,
    version,
    latest: tristate('latest', get('latest')),
    semverTags: bool('semver-tags', get('semver-tags'), false),
    registries: parseRegistries(get),
    push: tristate('push', get('push')),
    cache: oneOf('cache', get('cache'), ['gha', 'registry', 'none'] as const, 'gha'),
    qemu: tristate('qemu', get('qemu')),
    builder: oneOf('builder', get('builder'), ['auto', 'docker', 'docker-container'] as const, 'auto'),
    buildArgs: parseKeyValueLines('build-args', get('build-args')),
    smokePlatforms: oneOf('smoke-platforms', get('smoke-platforms'), ['native', 'all'] as const, 'native'),
    dryRun: bool('dry-run', get('dry-run'), false),
    goCache: oneOf('go-cache', get('go-cache'), ['auto', 'false'] as const, 'auto'),
    builderEndpoints: parseBuilderEndpoints(get('builder-endpoints')),
    ...parseMode(get),
    sign: parseSign(get),
    provenance: oneOf('provenance', get('provenance'), ['min', 'max', 'false'] as const, 'min'),
    sbom: bool('sbom', get('sbom'), false)
  };
}

/** sign: false | keyless | key, with cosign-key and cosign-password for key, and transparency-log. */
function parseSign(get: InputGetter): SignSpec {
  const mode = oneOf('sign', get('sign'), ['false', 'keyless', 'key'] as const, 'false');
  const key = get('cosign-key').trim();
  const password = get('cosign-password');
  const tlog = bool('transparency-log', get('transparency-log'), true);
  if (mode !== 'key' && key !== '') throw new InputError('cosign-key', '(not shown)', `nothing unless sign is "key" (sign is "${mode}")`);
  if (mode === 'key' && key === '') {
    throw new InputError('cosign-key', '', 'the cosign private key (the contents of cosign.key, from a secret), since sign is "key"');
  }
  if (mode === 'key' && !/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(key)) {
    throw new InputError(
      'cosign-key',
      '(not shown)',
      'a PEM private key as `cosign generate-key-pair` writes it ("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----")'
    );
  }
  if (mode === 'keyless' && !tlog) {
    throw new InputError(
      'transparency-log',
      'false',
      'true with sign: keyless (a keyless signature is only checkable through the transparency log)'
    );
  }
  if (mode === 'false') return { mode };
  if (mode === 'keyless') return { mode, transparencyLog: true };
  return { mode, key, password, transparencyLog: tlog };
}

/** mode, and build-platforms (only with mode: platform); builder-endpoints only with mode: publish. */
function parseMode(get: InputGetter): Pick<Inputs, 'mode' | 'buildPlatforms'> {
  const mode = oneOf('mode', get('mode'), ['publish', 'platform', 'merge'] as const, 'publish');
  const raw = get('build-platforms');
  if (raw.trim() !== '' && mode !== 'platform') {
    throw new InputError('build-platforms', raw, `nothing unless mode is "platform" (mode is "${mode}")`);
  }
  if (mode !== 'publish' && get('builder-endpoints').trim() !== '') {
    throw new InputError(
      'builder-endpoints',
      get('builder-endpoints'),
      `nothing with mode "${mode}" (each runner of the matrix builds its own platforms; mode: publish uses build nodes)`
    );
  }
  if (raw.trim() === '') return { mode };
  return { mode, buildPlatforms: parsePlatforms('build-platforms', raw, []) };
}

export function parseImages(raw: string): ImageInput[] {
  if (raw.trim() === '') throw new InputError('images', raw, IMAGES_SHAPE);
  const list = yamlList('images', raw, IMAGES_SHAPE);
  if (list.length === 0) throw new InputError('images', raw, IMAGES_SHAPE);
  const images = list.map((item, i) => parseImage(item, i));
  const seen = new Map<string, number>();
  images.forEach((img, i) => {
    for (const n of img.names) {
      const key = n.toLowerCase();
      const first = seen.get(key);
      if (first !== undefined && first !== i) {
        throw new InputError(`images[${i}].name`, n, `a name not used by another image (images[${first}] has it)`);
      }
      seen.set(key, i);
    }
  });
  return images;
}

function parseImage(item: unknown, i: number): ImageInput {
  const where = `images[${i}]`;
  if (!isMap(item)) throw new InputError(where, item, 'a map with at least "name"');
  for (const k of Object.keys(item)) {
    if (!IMAGE_KEYS.has(k)) throw new InputError(`${where}.${k}`, k, `one of the keys ${[...IMAGE_KEYS].join(', ')}`);
  }
  let names: string[];
  if (item.names !== undefined) {
    if (item.name !== undefined) throw new InputError(`${where}.names`, item.names, 'either "name" or "names", not both');
    if (!Array.isArray(item.names) || item.names.length === 0 || !item.names.every(isNonEmptyString)) {
      throw new InputError(`${where}.names`, item.names, 'a non-empty list of repository names');
    }
    names = item.names.map((n) => n.trim());
  } else if (isNonEmptyString(item.name)) {
    names = [item.name.trim()];
  } else {
    throw new InputError(`${where}.name`, item.name, 'a repository name such as "ghcr.io/org/app" or "org/app"');
  }
  const context = optString(`${where}.context`, item.context) ?? '.';
  const img: ImageInput = {
    names,
    // Like docker/build-push-action: the Dockerfile defaults to <context>/Dockerfile.
    dockerfile: optString(`${where}.dockerfile`, item.dockerfile) ?? posix.join(context, 'Dockerfile'),
    context,
    buildArgs: stringMap(`${where}.build-args`, item['build-args']),
    labels: stringMap(`${where}.labels`, item.labels),
    smoke: parseSmoke(`${where}.smoke`, item.smoke)
  };
  const target = optString(`${where}.target`, item.target);
  if (target !== undefined) img.target = target;
  if (item.platforms !== undefined) {
    const p = item.platforms;
    const text = Array.isArray(p) ? p.map(String).join(',') : typeof p === 'string' ? p : undefined;
    if (text === undefined) throw new InputError(`${where}.platforms`, p, 'a list or a comma-separated string of platforms');
    img.platforms = parsePlatforms(`${where}.platforms`, text, []);
  }
  const scope = optString(`${where}.cache-scope`, item['cache-scope']);
  if (scope !== undefined) img.cacheScope = scope;
  return img;
}

/**
 * Checks, before anything runs, that each image's context is a directory and its Dockerfile an
 * existing file inside that context. Paths are relative to the workspace (the job's checkout).
 */
export function checkImageFiles(images: ImageInput[], workspace: string): void {
  images.forEach((img, i) => {
    const context = resolve(workspace, img.context);
    if (!existsSync(context) || !statSync(context).isDirectory()) {
      throw new InputError(`images[${i}].context`, img.context, `a directory in the workspace (${workspace})`);
    }
    const dockerfile = resolve(workspace, img.dockerfile);
    const inside = relative(context, dockerfile);
    if (inside === '' || inside.startsWith('..') || isAbsolute(inside)) {
      throw new InputError(`images[${i}].dockerfile`, img.dockerfile, `a Dockerfile inside the build context "${img.context}"`);
    }
    if (!existsSync(dockerfile) || !statSync(dockerfile).isFile()) {
      throw new InputError(`images[${i}].dockerfile`, img.dockerfile, `an existing file (looked for ${dockerfile})`);
    }
  });
}

export function parseSmoke(where: string, v: unknown): SmokeSpec {
  const up: SmokeWait = { kind: 'up', seconds: DEFAULT_UP_SECONDS };
  const base = { env: {}, timeoutSeconds: DEFAULT_SMOKE_TIMEOUT_SECONDS };
  if (v === undefined || v === null || v === true) return { enabled: true, args: [], ...base, wait: up };
  if (v === false) return { enabled: false };
  const exit: SmokeWait = { kind: 'exit' };
  if (typeof v === 'string') return { enabled: true, args: splitArgs(where, v), ...base, wait: exit };
  if (Array.isArray(v)) return { enabled: true, args: argList(where, v), ...base, wait: exit };
  if (!isMap(v))
    throw new InputError(
      where,
      v,
      'false, a command string, a list of arguments, or a map {args, entrypoint, env, expect, timeout-seconds, up-seconds, http}'
    );
  for (const k of Object.keys(v)) {
    if (!SMOKE_KEYS.has(k)) throw new InputError(`${where}.${k}`, k, `one of the keys ${[...SMOKE_KEYS].join(', ')}`);
  }
  const args =
    v.args === undefined
      ? []
      : typeof v.args === 'string'
        ? splitArgs(`${where}.args`, v.args)
        : Array.isArray(v.args)
          ? argList(`${where}.args`, v.args)
          : undefined;
  if (!args) throw new InputError(`${where}.args`, v.args, 'a command string or a list of arguments');
  const entrypoint = optString(`${where}.entrypoint`, v.entrypoint);
  const timeoutSeconds = positiveSeconds(`${where}.timeout-seconds`, v['timeout-seconds']) ?? DEFAULT_SMOKE_TIMEOUT_SECONDS;
  const upSeconds = positiveSeconds(`${where}.up-seconds`, v['up-seconds']);
  if (upSeconds !== undefined && v.http !== undefined) {
    throw new InputError(`${where}.up-seconds`, v['up-seconds'], `nothing beside ${where}.http (a server passes when its port answers)`);
  }
  let wait: SmokeWait;
  if (v.http !== undefined) wait = parseHttp(`${where}.http`, v.http);
  else if (upSeconds !== undefined) {
    if (upSeconds >= timeoutSeconds) {
      throw new InputError(`${where}.up-seconds`, v['up-seconds'], `fewer seconds than timeout-seconds (${timeoutSeconds})`);
    }
    wait = { kind: 'up', seconds: upSeconds };
  } else if (args.length > 0 || entrypoint !== undefined) wait = exit;
  else wait = { kind: 'up', seconds: Math.min(DEFAULT_UP_SECONDS, timeoutSeconds / 2) };
  const spec: SmokeSpec = { enabled: true, args, env: stringMap(`${where}.env`, v.env), timeoutSeconds, wait };
  if (entrypoint !== undefined) spec.entrypoint = entrypoint;
  const expect = optString(`${where}.expect`, v.expect);
  if (expect !== undefined) {
    try {
      new RegExp(expect);
    } catch (e) {
      throw new InputError(`${where}.expect`, expect, `a regular expression (${firstLine(e)})`);
    }
    spec.expect = expect;
  }
  return spec;
}

function positiveSeconds(where: string, v: unknown): number | undefined {
  if (v === undefined) return undefined;
  const t = Number(v);
  if (typeof v === 'boolean' || v === null || v === '' || !Number.isFinite(t) || t <= 0) {
    throw new InputError(where, v, 'a positive number of seconds');
  }
  return t;
}

/** `http: 8080` or `http: {port, path, status}`. */
function parseHttp(where: string, v: unknown): SmokeWait {
  const m = isMap(v) ? v : { port: v };
  for (const k of Object.keys(m)) {
    if (!HTTP_KEYS.has(k)) throw new InputError(`${where}.${k}`, k, `one of the keys ${[...HTTP_KEYS].join(', ')}`);
  }
  const port = wholeNumber(m.port);
  if (port === undefined || port < 1 || port > 65535) {
    throw new InputError(`${where}.port`, m.port, 'the container port to probe, a whole number from 1 to 65535 (e.g. 8080)');
  }
  const path = m.path === undefined ? '/' : m.path;
  if (typeof path !== 'string' || !path.startsWith('/') || /[\s#]/.test(path)) {
    throw new InputError(`${where}.path`, path, 'a URL path starting with "/", with no spaces, e.g. /healthz');
  }
  const status = m.status === undefined ? 200 : wholeNumber(m.status);
  if (status === undefined || status < 100 || status > 599) {
    throw new InputError(`${where}.status`, m.status, 'an HTTP status code from 100 to 599');
  }
  return { kind: 'http', port, path, status };
}

function wholeNumber(v: unknown): number | undefined {
  if (typeof v !== 'number' && (typeof v !== 'string' || !/^\d+$/.test(v.trim()))) return undefined;
  const n = Number(v);
  return Number.isInteger(n) ? n : undefined;
}

export function parsePlatforms(input: string, raw: string, fallback: string[]): string[] {
  const list = raw
    .split(/[,\n]/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (list.length === 0) {
    if (fallback.length > 0) return [...fallback];
    throw new InputError(input, raw, 'at least one platform, e.g. "linux/amd64,linux/arm64"');
  }
  for (const p of list) {
    if (!KNOWN_PLATFORMS.has(p)) {
      throw new InputError(
        input,
        p,
        `a platform such as ${[...KNOWN_PLATFORMS].slice(0, 8).join(', ')} (known: ${[...KNOWN_PLATFORMS].join(' ')})`
      );
    }
  }
  return [...new Set(list)];
}

function parseRegistries(get: InputGetter): RegistryLogin[] {
  const out: RegistryLogin[] = [];
  const username = get('username').trim();
  const password = get('password');
  const registry = get('registry').trim() || 'docker.io';
  if (password !== '' && username === '') throw new InputError('username', '', 'a username, since "password" is set');
  if (username !== '' && password === '') throw new InputError('password', '', `a password or token for "${username}"`);
  if (username !== '') out.push({ registry, username, password });
  const raw = get('registries');
  if (raw.trim() !== '') {
    const list = yamlList('registries', raw, 'a YAML list of {registry, username, password}', '(YAML not shown: it may hold passwords)');
    list.forEach((r, i) => {
      const where = `registries[${i}]`;
      if (!isMap(r)) throw new InputError(where, typeof r, 'a map {registry, username, password}');
      for (const k of Object.keys(r)) {
        if (!REGISTRY_KEYS.has(k)) throw new InputError(`${where}.${k}`, k, 'one of the keys registry, username, password');
      }
      if (!isNonEmptyString(r.registry)) throw new InputError(`${where}.registry`, r.registry, 'a registry host such as "ghcr.io"');
      const user = r.username === undefined ? '' : String(r.username).trim();
      const pass = r.password === undefined ? '' : String(r.password);
      if (pass !== '' && user === '')
        throw new InputError(`${where}.username`, '', `a username, since a password is set for ${r.registry}`);
      if (user === '' || pass === '') throw new InputError(`${where}.password`, '', `a username and a password for ${r.registry}`);
      out.push({ registry: r.registry.trim(), username: user, password: pass });
    });
  }
  const seen = new Set<string>();
  for (const r of out) {
    if (seen.has(r.registry))
      throw new InputError('registries', r.registry, 'each registry once (it is also given by "registry" or an earlier entry)');
    seen.add(r.registry);
  }
  return out;
}

const ENDPOINTS_SHAPE = 'a YAML list of {endpoint, platforms}, e.g. "- endpoint: ssh://builder@arm-host\\n  platforms: linux/arm64"';

/** builder-endpoints: remote engines that build the listed platforms natively. */
function parseBuilderEndpoints(raw: string): BuilderEndpoint[] {
  if (raw.trim() === '') return [];
  const list = yamlList('builder-endpoints', raw, ENDPOINTS_SHAPE);
  const owner = new Map<string, number>();
  return list.map((item, i) => {
    const where = `builder-endpoints[${i}]`;
    if (!isMap(item)) throw new InputError(where, item, ENDPOINTS_SHAPE);
    for (const k of Object.keys(item))
      if (k !== 'endpoint' && k !== 'platforms') throw new InputError(`${where}.${k}`, k, 'the keys endpoint, platforms');
    const endpoint = optString(`${where}.endpoint`, item.endpoint);
    // The endpoint becomes an argument of `docker context create`: never something that reads as a flag.
    if (endpoint === undefined || !/^(ssh|tcp):\/\/[A-Za-z0-9._~@:[\]-]+(\/[A-Za-z0-9._~/-]*)?$/.test(endpoint)) {
      throw new InputError(`${where}.endpoint`, item.endpoint, 'ssh://user@host[:port] or tcp://host:port');
    }
    const p = item.platforms;
    const text = Array.isArray(p) ? p.map(String).join(',') : typeof p === 'string' ? p : '';
    const platforms = parsePlatforms(`${where}.platforms`, text, []);
    for (const pl of platforms) {
      const first = owner.get(pl);
      if (first !== undefined)
        throw new InputError(`${where}.platforms`, pl, `a platform no other endpoint builds (builder-endpoints[${first}] has it)`);
      owner.set(pl, i);
    }
    return { endpoint, platforms };
  });
}

export function parseKeyValueLines(input: string, raw: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of raw.split('\n')) {
    const l = line.trim();
    if (l === '' || l.startsWith('#')) continue;
    const eq = l.indexOf('=');
    const key = eq > 0 ? l.slice(0, eq).trim() : '';
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key))
      throw new InputError(input, l, 'lines of KEY=VALUE, KEY a letter or _ followed by letters, digits or _');
    out[key] = l.slice(eq + 1);
  }
  return out;
}

function tristate(input: string, raw: string): Tristate {
  return oneOf(input, raw, ['auto', 'true', 'false'] as const, 'auto');
}

function bool(input: string, raw: string, dflt: boolean): boolean {
  const v = raw.trim().toLowerCase();
  if (v === '') return dflt;
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw new InputError(input, raw, '"true" or "false"');
}

function oneOf<T extends string>(input: string, raw: string, allowed: readonly T[], dflt: T): T {
  const v = raw.trim().toLowerCase();
  if (v === '') return dflt;
  if ((allowed as readonly string[]).includes(v)) return v as T;
  throw new InputError(input, raw, allowed.map((a) => `"${a}"`).join(' | '));
}

function stringMap(where: string, v: unknown): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (!isMap(v)) throw new InputError(where, v, 'a map of KEY: value');
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v)) {
    if (val === null || typeof val === 'object') throw new InputError(`${where}.${k}`, val, 'a string, number or boolean');
    out[k] = String(val);
  }
  return out;
}

function optString(where: string, v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || v.trim() === '') throw new InputError(where, v, 'a non-empty string');
  return v.trim();
}

function argList(where: string, v: unknown[]): string[] {
  return v.map((a, i) => {
    if (a === null || typeof a === 'object') throw new InputError(`${where}[${i}]`, a, 'a string');
    return String(a);
  });
}

/** Splits a command string into arguments like a shell would, quotes included; runs nothing. */
export function splitArgs(where: string, s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote: '"' | "'" | undefined;
  let inArg = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charAt(i);
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < s.length) cur += s.charAt(++i);
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inArg = true;
    } else if (c === '\\' && i + 1 < s.length) {
      cur += s.charAt(++i);
      inArg = true;
    } else if (/\s/.test(c)) {
      if (inArg) out.push(cur);
      cur = '';
      inArg = false;
    } else {
      cur += c;
      inArg = true;
    }
  }
  if (quote) throw new InputError(where, s, 'a command with balanced quotes');
  if (inArg) out.push(cur);
  return out;
}

/** A YAML list input; a single map is a list of one. `shown` stands for the value in errors (a secret's YAML is not echoed). */
function yamlList(input: string, raw: string, shape: string, shown: string = raw): unknown[] {
  let doc: unknown;
  try {
    doc = parseYaml(raw);
  } catch (e) {
    throw new InputError(input, shown, `${shape} (YAML error: ${firstLine(e)})`);
  }
  const list = Array.isArray(doc) ? doc : isMap(doc) ? [doc] : undefined;
  if (!list) throw new InputError(input, shown, shape);
  return list;
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isNonEmptyString(v: unknown): v is string {
  return typeof v === 'string' && v.trim() !== '';
}

function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0] ?? '';
}

function describe(v: unknown): string {
  if (v === undefined) return '(missing)';
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  const short = s.length > 200 ? `${s.slice(0, 200)}…` : s;
  return JSON.stringify(short);
}
