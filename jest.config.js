// ESM + TypeScript through ts-jest's ESM preset (run with NODE_OPTIONS=--experimental-vm-modules).
// Projects: unit tests never need an engine; e2e tests run dist/ against the real engines of
// scripts/test-env.sh, each engine-bound suite once per image store (globals.GDP_ENGINE, read by
// __tests__/e2e/harness.ts); suites that only plan or refuse input run once.
const common = {
  preset: 'ts-jest/presets/default-esm',
  testEnvironment: 'node',
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json', diagnostics: { warnOnly: false } }]
  }
};
// Suites that run once: scaffold only plans or refuses input before any docker command (the
// engine does not matter); native chooses its engines itself (one per runner of a matrix); sign
// and keyless do not depend on the image store; sigstore uses no engine (it pushes over the
// registry API); cache-cap is about the cache service, not the image store.
const ENGINE_FREE = ['scaffold', 'native', 'sign', 'keyless', 'sigstore', 'cache-cap'];
const e2e = (engine, ignore = []) => ({
  ...common,
  displayName: `e2e-${engine}`,
  globals: { GDP_ENGINE: engine },
  testMatch: ['<rootDir>/__tests__/e2e/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', ...ignore.map((s) => `/__tests__/e2e/${s}\\.test\\.ts$`)]
});

export default {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/__tests__/unit/**/*.test.ts'] },
    e2e('classic'),
    e2e('containerd', ENGINE_FREE)
  ]
};
