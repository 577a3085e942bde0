// A workspace for tests that call @actions/cache in this process: a temporary RUNNER_TEMP and
// GITHUB_WORKSPACE holding one file to save (data.txt), with the cache variables the test sets
// restored afterwards and the v1 URL cleared (the tests speak v2). Registers its own beforeAll and
// afterAll; call it inside the describe block.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from '@jest/globals';

const ENV = [
  'ACTIONS_CACHE_SERVICE_V2',
  'ACTIONS_RESULTS_URL',
  'ACTIONS_RUNTIME_TOKEN',
  'ACTIONS_CACHE_URL',
  'RUNNER_TEMP',
  'GITHUB_WORKSPACE'
];

/** The file to save, once beforeAll has run. */
export function cacheWorkspace(prefix: string): { file: () => string } {
  let dir = '';
  const saved: Record<string, string | undefined> = {};
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), prefix));
    writeFileSync(join(dir, 'data.txt'), 'cached');
    for (const k of ENV) saved[k] = process.env[k];
    delete process.env.ACTIONS_CACHE_URL;
    process.env.RUNNER_TEMP = dir;
    process.env.GITHUB_WORKSPACE = dir;
  });
  afterAll(() => {
    for (const k of ENV) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
    rmSync(dir, { recursive: true, force: true });
  });
  return { file: () => join(dir, 'data.txt') };
}
