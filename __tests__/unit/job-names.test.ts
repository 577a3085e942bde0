// The names a job creates in the engine and the buildx config are its own: matrix jobs of one
// workflow run share GITHUB_RUN_ID, GITHUB_RUN_ATTEMPT and GITHUB_JOB, and on a self-hosted
// machine they may share one Docker engine.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { buildPlan } from '../../src/plan/plan.js';
import { runPipeline } from '../../src/run/pipeline.js';
import { jobInstance, jobRunId } from '../../src/run/state.js';
import { DOCKER_DRIVER_BUILDER, platformEngine } from '../support/fake-engine.js';
import { FakeRunner } from '../support/fake-runner.js';
import { ctxFor, inputsFor, TUNNEL_IMAGE } from '../support/plan-inputs.js';

// What two matrix jobs of one workflow run both see.
const MATRIX_JOB = { GITHUB_RUN_ID: '4242', GITHUB_RUN_ATTEMPT: '1', GITHUB_JOB: 'publish' };

const plan = buildPlan(inputsFor([TUNNEL_IMAGE], { cache: 'none', goCache: 'false' }), ctxFor('release-published'), 'amd64');

/** Every name a run gave to something it created: builders, smoke containers, the tags smoke tests load under. */
function namesCreated(calls: string[][]): string[] {
  return calls.flatMap((c) =>
    c.flatMap((a) => {
      const named = /^--name=(.+)$/.exec(a)?.[1];
      const loaded = a.includes('type=docker') ? /(?:^|,)name=([^,]+)/.exec(a)?.[1] : undefined;
      return [named, loaded].filter((n): n is string => n !== undefined);
    })
  );
}

/** One job's run through the pipeline on an engine whose current builder uses the docker driver (so the job creates one). */
async function jobRun(): Promise<{ runId: string; names: string[] }> {
  const engine = platformEngine('amd64');
  const r = new FakeRunner((args) =>
    args[0] === 'buildx' && args[1] === 'inspect' && args.length === 2 ? DOCKER_DRIVER_BUILDER : engine(args)
  );
  const runId = jobRunId(MATRIX_JOB, jobInstance());
  const hooks = { loggedIn: () => undefined, builderCreated: () => undefined };
  const res = await runPipeline(plan, r, hooks, {
    runId,
    ghaCache: { reason: 'none here' },
    tempDir: mkdtempSync(join(tmpdir(), 'gdp-unit-'))
  });
  expect(res.error).toBeUndefined();
  return { runId, names: namesCreated(r.calls) };
}

describe('names of a job of its own', () => {
  it('two jobs of one workflow run (the same run ID, attempt and job): each run ID is the run, the attempt and a random part of its own', () => {
    const a = jobRunId(MATRIX_JOB, jobInstance());
    const b = jobRunId(MATRIX_JOB, jobInstance());
    expect(a).toMatch(/^4242-1-[0-9a-f]{8}$/);
    expect(b).toMatch(/^4242-1-[0-9a-f]{8}$/);
    expect(a).not.toBe(b);
    expect(jobRunId({}, 'abcd1234')).toBe(`${process.pid}-abcd1234`);
  });

  it('their runs create no name in common: not the builder, not a smoke container, not the tag a smoke test loads under', async () => {
    const one = await jobRun();
    const two = await jobRun();
    for (const job of [one, two]) {
      expect(job.names).toContain(`go-docker-publish-${job.runId}`);
      expect(job.names.some((n) => /^gdp-smoke-/.test(n))).toBe(true);
      expect(job.names.some((n) => /^ghcr\.io\/example\/tunnel:gdp-smoke-/.test(n))).toBe(true);
    }
    expect(one.names.filter((n) => two.names.includes(n))).toEqual([]);
  });
});
