// The shapes every input shares, pure: the error that names an input, and the readers of booleans,
// choices, maps, strings, argument lists and YAML lists that the input parsers are made of.
import { parse as parseYaml } from 'yaml';

export class InputError extends Error {
  constructor(input: string, value: unknown, expected: string) {
    super(`Input "${input}": ${describe(value)} is not valid. Expected ${expected}.`);
    this.name = 'InputError';
  }
}

/** core.getInput in the action, a map in tests. */
export type InputGetter = (name: string) => string;

export function tristate(input: string, raw: string): 'auto' | 'true' | 'false' {
  return oneOf(input, raw, ['auto', 'true', 'false'] as const, 'auto');
}

export function bool(input: string, raw: string, dflt: boolean): boolean {
  const v = raw.trim().toLowerCase();
  if (v === '') return dflt;
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw new InputError(input, raw, '"true" or "false"');
}

export function oneOf<T extends string>(input: string, raw: string, allowed: readonly T[], dflt: T): T {
  const v = raw.trim().toLowerCase();
  if (v === '') return dflt;
  if ((allowed as readonly string[]).includes(v)) return v as T;
  throw new InputError(input, raw, allowed.map((a) => `"${a}"`).join(' | '));
}

export function stringMap(where: string, v: unknown): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (!isMap(v)) throw new InputError(where, v, 'a map of KEY: value');
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v)) {
    if (val === null || typeof val === 'object') throw new InputError(`${where}.${k}`, val, 'a string, number or boolean');
    out[k] = String(val);
  }
  return out;
}

export function optString(where: string, v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || v.trim() === '') throw new InputError(where, v, 'a non-empty string');
  return v.trim();
}

export function argList(where: string, v: unknown[]): string[] {
  return v.map((a, i) => {
    if (a === null || typeof a === 'object') throw new InputError(`${where}[${i}]`, a, 'a string');
    return String(a);
  });
}

/** Lines of KEY=VALUE (blank lines and # comments skipped); KEY a variable name. */
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

/** A YAML list input; a single map is a list of one. `shown` stands for the value in errors (a secret's YAML is not echoed). */
export function yamlList(input: string, raw: string, shape: string, shown: string = raw): unknown[] {
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

export function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function isNonEmptyString(v: unknown): v is string {
  return typeof v === 'string' && v.trim() !== '';
}

export function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0] ?? '';
}

function describe(v: unknown): string {
  if (v === undefined) return '(missing)';
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  const short = s.length > 200 ? `${s.slice(0, 200)}…` : s;
  return JSON.stringify(short);
}
