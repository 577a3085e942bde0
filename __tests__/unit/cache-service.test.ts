import { describe, expect, it } from '@jest/globals';
import { cacheService } from '../../src/plan/cache-service.js';

// The variables as runners set them: github.com today (v2), GHES (v1), and outside Actions.
const token = 'eyJhbGciOiJIUzI1NiJ9.e30.sig';
const results = 'https://results-receiver.actions.githubusercontent.com/';
const v1 = 'https://acghubeus1.actions.githubusercontent.com/abc/';

describe('which cache service the runner gives the step', () => {
  it.each([
    ['github.com: v2', { ACTIONS_RUNTIME_TOKEN: token, ACTIONS_RESULTS_URL: results, ACTIONS_CACHE_SERVICE_V2: 'True' }, 'v2'],
    [
      'github.com with the old v1 URL still set: v2 wins, as in buildx',
      { ACTIONS_RUNTIME_TOKEN: token, ACTIONS_RESULTS_URL: results, ACTIONS_CACHE_SERVICE_V2: '1', ACTIONS_CACHE_URL: v1 },
      'v2'
    ],
    ['GHES: v1', { ACTIONS_RUNTIME_TOKEN: token, ACTIONS_CACHE_URL: v1 }, 'v1'],
    [
      'results URL without the v2 flag, with a v1 URL: v1',
      { ACTIONS_RUNTIME_TOKEN: token, ACTIONS_RESULTS_URL: results, ACTIONS_CACHE_URL: v1 },
      'v1'
    ],
    [
      'v2 flag "false": not v2',
      { ACTIONS_RUNTIME_TOKEN: token, ACTIONS_RESULTS_URL: results, ACTIONS_CACHE_SERVICE_V2: 'false' },
      undefined
    ],
    ['no token', { ACTIONS_RESULTS_URL: results, ACTIONS_CACHE_SERVICE_V2: 'true' }, undefined],
    ['nothing', {}, undefined]
  ] as [string, Record<string, string>, string | undefined][])('%s', (_what, env, want) => {
    const s = cacheService(env);
    expect(s.protocol).toBe(want);
    expect(s.reason).not.toBe('');
  });

  it('says which variable is missing', () => {
    expect(cacheService({}).reason).toMatch(/ACTIONS_RUNTIME_TOKEN is not set/);
    expect(cacheService({ ACTIONS_RUNTIME_TOKEN: token }).reason).toMatch(/neither ACTIONS_RESULTS_URL .* nor ACTIONS_CACHE_URL/);
    expect(cacheService({ ACTIONS_RUNTIME_TOKEN: token, ACTIONS_RESULTS_URL: results }).reason).toMatch(/ACTIONS_CACHE_SERVICE_V2 is not/);
  });
});
