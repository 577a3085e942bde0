// Tags: a run that fails half-way through the tags reports exactly what it left: the images tagged
// before the failure with their digests, the rest with none.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { readInputs } from '../../src/inputs/index.js';
import { buildPlan } from '../../src/plan/plan.js';
import { runPipeline } from '../../src/run/pipeline.js';
import { DIGEST, platformEngine } from '../support/fake-engine.js';
import { FakeRunner } from '../support/fake-runner.js';
import { ctxFor } from '../support/plan-inputs.js';

describe('tags that fail half-way', () => {
  it('the first image keeps its tag and digest in the outcome; the second has neither', async () => {
    const inputs = readInputs(
      (n) =>
        ({
          images: '- name: ghcr.io/o/a\n  smoke: ["--version"]\n- name: ghcr.io/o/b\n  smoke: ["--version"]',
          platforms: 'linux/amd64',
          cache: 'none',
          latest: 'false',
          username: 'u',
          password: 'p',
          registry: 'ghcr.io'
        })[n] ?? ''
    );
    const engine = platformEngine('amd64');
    const r = new FakeRunner((args) =>
      args[2] === 'create' && args[3] === '--tag=ghcr.io/o/b:v2.3.1'
        ? { exitCode: 1, stderr: 'denied: requested access to the resource is denied' }
        : engine(args)
    );
    const res = await runPipeline(
      buildPlan(inputs, ctxFor('release-published'), 'amd64'),
      r,
      { loggedIn: () => undefined, builderCreated: () => undefined },
      {
        runId: '1',
        ghaCache: { reason: 'none' },
        tempDir: mkdtempSync(join(tmpdir(), 'gdp-unit-'))
      }
    );
    expect(res.error?.message).toContain('denied');
    expect(res.pushedRefs).toEqual(['ghcr.io/o/a:v2.3.1']);
    expect(res.images.map((i) => [i.tags, i.digest])).toEqual([
      [['ghcr.io/o/a:v2.3.1'], DIGEST(9)],
      [['ghcr.io/o/b:v2.3.1'], '']
    ]);
  });
});
