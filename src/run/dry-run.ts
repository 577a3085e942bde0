// dry-run: true runs the pipeline itself (run/pipeline.ts), with a runner that records every
// command instead of running it, so the dry run's command list is the real run's by construction.
// Reads are answered with what a dry run may know: the current builder and what the registries
// hold now are read for real (read-only, with the user's Docker config); what the run itself would
// have pushed is answered with placeholders (`<digest-1>`, `<image ID>`). Smoke tests are recorded
// as started and taken as passed. The cache service is read (the merge's hand-off records; only a
// look-up for Go caches) and never written. GitHub's attestations (in-process, not a command) are
// recorded in the same list, in their place. Images that build side by side interleave their
// commands as in a real run; each image's commands are in its own order.
import { writeFileSync } from 'node:fs';
import * as core from '@actions/core';
import { HANDOFF_PATH } from '../plan/handoff.js';
import type { Plan } from '../plan/types.js';
import { setOutputs } from '../report/outputs.js';
import { describePlan } from '../report/plan-text.js';
import type { CacheStore } from './actions-cache.js';
import type { GithubAttester } from './github-attest.js';
import { runPipeline, type PipelineEnv, type PipelineHooks, type PipelineResult } from './pipeline.js';
import type { ExecOptions, ExecResult, Runner } from './runner.js';

const ok = (stdout = ''): ExecResult => ({ exitCode: 0, stdout, stderr: '' });

/** A runner that records every command; `reads` runs the read-only ones whose answer a dry run may know. */
class RecordingRunner implements Runner {
  /** Every command, in order; cosign's as ['cosign', ...args]. */
  readonly calls: string[][] = [];
  /** References this run would have created: reads of them get placeholders, not the registry's current state. */
  private readonly created = new Set<string>();
  private pushes = 0;
  /** The platforms of each push by digest, by its placeholder digest. */
  private readonly pushed = new Map<string, string[]>();

  constructor(private readonly reads: Runner) {}

  async docker(args: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    this.calls.push(args);
    // A build node's commands run in its Docker context: `--context=NAME buildx …`.
    const [a0, a1, a2] = args[0]?.startsWith('--context=') ? args.slice(1) : args;
    if (a0 === 'buildx' && a1 === 'inspect') return this.reads.docker(args, opts);
    if (a0 === 'buildx' && a1 === 'imagetools' && a2 === 'inspect') return this.registryRead(args, opts);
    if (a0 === 'buildx' && a1 === 'imagetools' && a2 === 'create') {
      if (!args.includes('--dry-run')) for (const a of args) if (a.startsWith('--tag=')) this.created.add(a.slice('--tag='.length));
      return ok();
    }
    if (a0 === 'buildx' && a1 === 'build') return this.build(args);
    if (a0 === 'image' && a1 === 'inspect') return ok('<image ID>\n');
    if (a0 === 'container' && a1 === 'inspect') return ok(JSON.stringify({ Status: 'exited', ExitCode: 0 }));
    return ok();
  }

  async cosign(args: string[]): Promise<ExecResult> {
    this.calls.push(['cosign', ...args]);
    return ok();
  }

  git(args: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    return this.reads.git(args, opts);
  }

  credentialHelper(helper: string, server: string): Promise<ExecResult> {
    return this.reads.credentialHelper(helper, server);
  }

  /**
   * A push by digest reports a placeholder digest in its metadata file, as buildx reports the real
   * one; reads of it answer an index of the platforms pushed (`<digest-N>` → `<manifest-N.k>`).
   */
  private build(args: string[]): ExecResult {
    const metadata = args.find((a) => a.startsWith('--metadata-file='))?.slice('--metadata-file='.length);
    if (metadata && args.some((a) => a.includes('push-by-digest=true'))) {
      const digest = `<digest-${++this.pushes}>`;
      this.pushed.set(
        digest,
        args
          .find((a) => a.startsWith('--platform='))
          ?.slice('--platform='.length)
          .split(',') ?? []
      );
      writeFileSync(metadata, JSON.stringify({ 'containerimage.digest': digest }));
    }
    return ok();
  }

  private registryRead(args: string[], opts: ExecOptions): Promise<ExecResult> {
    const target = args[3] ?? '';
    if (!target.includes('<') && !this.created.has(target)) return this.reads.docker(args, opts);
    const format = args[4] ?? '';
    const digest = target.slice(target.indexOf('@') + 1);
    const platforms = this.pushed.get(digest);
    if (format === '--raw' && platforms) {
      const manifests = platforms.map((p, k) => {
        const [os, architecture, variant] = p.split('/');
        return {
          digest: digest.replace('<digest-', '<manifest-').replace('>', `.${k}>`),
          size: 0,
          platform: { os, architecture, ...(variant ? { variant } : {}) }
        };
      });
      return Promise.resolve(ok(JSON.stringify({ manifests })));
    }
    if (format === '--raw') return Promise.resolve(ok(JSON.stringify({ config: { digest: '<image ID>', size: 0 }, layers: [] })));
    if (format.includes('.Manifest')) return Promise.resolve(ok(JSON.stringify({ digest: '<index digest>', size: 0 })));
    return Promise.resolve(ok('{}'));
  }
}

/** The cache service as a dry run uses it: reads hand-off records, only looks Go caches up, saves nothing. */
function readOnlyStore(store: CacheStore): CacheStore {
  return {
    available: () => store.available(),
    restore: (paths, key, restoreKeys) => store.restore(paths, key, restoreKeys, paths[0] !== HANDOFF_PATH),
    save: () => Promise.resolve({ saved: true })
  };
}

/** attest: github in a dry run: each attestation @actions/attest would make is recorded in order, as `@actions/attest TYPE REPO@DIGEST…`. */
function recordingAttester(calls: string[][]): GithubAttester {
  return {
    attest: (a) => {
      calls.push(['@actions/attest', a.predicateType, ...a.digests.map((d) => `${a.name}@${d}`)]);
      return Promise.resolve();
    }
  };
}

const noHooks: PipelineHooks = { loggedIn: () => undefined, builderCreated: () => undefined };

/**
 * The pipeline with a recording runner, as a dry run runs it: every command it would run, in
 * order, and what the pipeline ended with. `dryRun` prints them; tests compare them with a real run's.
 */
export async function recordRun(
  plan: Plan,
  reads: Runner,
  store: CacheStore,
  env: PipelineEnv
): Promise<{ calls: string[][]; result: PipelineResult }> {
  const recorder = new RecordingRunner(reads);
  const result = await runPipeline(plan, recorder, noHooks, {
    ...env,
    cacheStore: readOnlyStore(store),
    dryRun: true,
    ...(plan.attest.github ? { githubAttester: recordingAttester(recorder.calls) } : {})
  });
  return { calls: recorder.calls, result };
}

/** Runs the pipeline with a recording runner, prints the plan and every command, and sets the outputs of a run that pushed nothing. */
export async function dryRun(plan: Plan, reads: Runner, store: CacheStore, env: PipelineEnv): Promise<void> {
  core.info(
    'Dry run: the pipeline runs with a recording runner: commands are recorded, not run (the current builder and the registries are only read); the log says what a real run would do.'
  );
  const { calls, result } = await recordRun(plan, reads, store, env);
  core.info(describePlan(plan, calls));
  if (result.error) core.warning(`Dry run: a real run would stop here: ${result.error.message}`);
  // Nothing ran: no digest, no smoke result, no pushed tag; the tags are those a real run would create.
  setOutputs(
    plan,
    result.images.map((o) => ({ name: o.name, tags: o.tags, digest: '', platforms: o.platforms, smoke: 'skipped' as const, size: {} })),
    false
  );
  core.info('Dry run: nothing was built, pushed or tagged.');
}
