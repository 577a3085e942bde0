// An image's smoke key, pure: false, a command string, an argument list, or a map with args,
// entrypoint, env, expect, timeout-seconds, up-seconds and http; and what the test waits for.
import type { SmokeSpec, SmokeWait } from '../plan/types.js';
import { argList, firstLine, InputError, isMap, optString, stringMap } from './values.js';

export const DEFAULT_SMOKE_TIMEOUT_SECONDS = 60;
/** How long the image's own command (a server) must stay up, with no HEALTHCHECK and no `http`. */
export const DEFAULT_UP_SECONDS = 5;

const SMOKE_KEYS = new Set(['args', 'entrypoint', 'env', 'expect', 'timeout-seconds', 'up-seconds', 'http']);
const HTTP_KEYS = new Set(['port', 'path', 'status']);

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
