// Runs a plan through the real pipeline with the dry run's recording runner (recordRun, what
// `dry-run: true` runs) and returns every command it recorded. `reads` answers what the dry run
// reads for real (the current builder, the registries): by default a runner whose every read
// fails, as the scaffold e2e's trapped `docker` does.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Plan } from '../../src/plan/types.js';
import type { CacheStore } from '../../src/run/actions-cache.js';
import { recordRun } from '../../src/run/dry-run.js';
import type { PipelineEnv, PipelineResult } from '../../src/run/pipeline.js';
import type { ExecResult } from '../../src/run/runner.js';
import { FakeRunner } from './fake-runner.js';

export const noCache: CacheStore = {
  available: () => false,
  restore: async () => undefined,
  save: async () => ({ saved: false, refusal: { kind: 'failed', detail: 'no cache service' } })
};

export async function recordedCommands(
  plan: Plan,
  o: { reads?: (args: string[]) => Partial<ExecResult>; store?: CacheStore; env?: Partial<PipelineEnv> } = {}
): Promise<{ calls: string[][]; result: PipelineResult }> {
  const reads = new FakeRunner(o.reads ?? (() => ({ exitCode: 99, stderr: 'no engine here' })));
  return recordRun(plan, reads, o.store ?? noCache, {
    runId: '42-1',
    ghaCache: { reason: 'none here' },
    tempDir: mkdtempSync(join(tmpdir(), 'gdp-dry-')),
    workflowRun: { id: '42', attempt: '1', sha: '3f786850e387550fdab836ed7e6dc881de23001b' },
    ...o.env
  });
}
