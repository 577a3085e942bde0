// action.yml is the contract: the input parser, run on every input exactly as a runner sends
// them (each declared input with its default, '' where it has none), gives the same Inputs as the
// parser's own defaults; every input the parser reads is declared and every declared input is
// read; and the README's inputs table lists the same inputs with the same defaults.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';
import { readInputs } from '../../src/inputs/index.js';

const root = new URL('../../', import.meta.url);
const action = parse(readFileSync(new URL('action.yml', root), 'utf8')) as {
  inputs: Record<string, { default?: string; required?: boolean }>;
  runs: { using: string };
};
const declared = Object.keys(action.inputs);
const IMAGES = '- name: ghcr.io/org/app';

describe('action.yml is the contract', () => {
  // Some defaults only show when another input turns their feature on.
  it.each([
    ['images only', {}],
    ['go-private', { 'go-private': 'gdp.example/acme/*', 'go-private-token': 't0ken' }],
    ['mode: platform', { mode: 'platform' }]
  ])(
    'its defaults, sent as a runner sends them, give what the parser gives when nothing is sent (%s)',
    (_what, given: Record<string, string>) => {
      const set = { images: IMAGES, ...given };
      const asRunnerSends = (name: string): string => set[name as keyof typeof set] ?? action.inputs[name]?.default ?? '';
      const nothingSent = (name: string): string => set[name as keyof typeof set] ?? '';
      expect(readInputs(asRunnerSends)).toEqual(readInputs(nothingSent));
    }
  );

  it('every input the parser reads is declared, and every declared input is read', () => {
    const asked = new Set<string>();
    readInputs((name) => {
      asked.add(name);
      return name === 'images' ? IMAGES : '';
    });
    expect([...asked].sort()).toEqual([...declared].sort());
  });

  it('only images is required', () => {
    expect(declared.filter((n) => action.inputs[n]?.required)).toEqual(['images']);
  });

  it('the README inputs table lists the same inputs with the same defaults', () => {
    const readme = readFileSync(new URL('README.md', root), 'utf8');
    const table = readme.slice(readme.indexOf('## Inputs'), readme.indexOf('Keys of each entry of `images`'));
    const rows = table.split('\n').filter((l) => /^\| `/.test(l));
    const fromReadme = new Map<string, string>();
    for (const row of rows) {
      const [names, dflt] = row
        .split('|')
        .slice(1, 3)
        .map((c) => c.trim());
      // "`a`, `b`" documents two inputs with one default; a default in backticks is literal, else "" (none) or words.
      const value = /^`([^`]*)`$/.test(dflt ?? '') ? (dflt ?? '').slice(1, -1) : '';
      for (const n of (names ?? '').match(/`[^`]+`/g) ?? []) fromReadme.set(n.slice(1, -1), value);
    }
    expect([...fromReadme.keys()].sort()).toEqual([...declared].sort());
    for (const n of declared) expect([n, fromReadme.get(n)]).toEqual([n, action.inputs[n]?.default ?? '']);
  });

  it('the Node the action runs on is one: action.yml node24, package.json engines and @types/node 24, CI sets up Node 24', () => {
    const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as {
      engines: { node: string };
      devDependencies: Record<string, string>;
    };
    const ci = parse(readFileSync(new URL('.github/workflows/ci.yml', root), 'utf8')) as {
      jobs: Record<string, { steps: { uses?: string; with?: { 'node-version'?: unknown } }[] }>;
    };
    expect(action.runs.using).toBe('node24');
    expect(pkg.engines.node).toBe('>=24');
    expect(pkg.devDependencies['@types/node']).toMatch(/^\^24\./);
    const setups = Object.values(ci.jobs).flatMap((j) => j.steps.filter((s) => s.uses?.startsWith('actions/setup-node@')));
    expect(setups.length).toBeGreaterThan(0);
    for (const s of setups) expect(String(s.with?.['node-version'])).toBe('24');
  });
});
