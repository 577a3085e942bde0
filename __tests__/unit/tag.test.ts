// Tags: a run that fails half-way through the tags reports exactly what it left: the images tagged
// before the failure with their digests, the rest with none; and of one image's tags, created in
// one call across registries, those that name its index when the call failed.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { readInputs } from '../../src/inputs/index.js';
import { buildPlan } from '../../src/plan/plan.js';
import { runPipeline } from '../../src/run/pipeline.js';
import { indexDigestOf } from '../../src/plan/index-manifest.js';
import { DIGEST, platformEngine } from '../support/fake-engine.js';
import { FakeRunner } from '../support/fake-runner.js';
import { ctxFor } from '../support/plan-inputs.js';

const run = (images: string, r: FakeRunner) =>
  runPipeline(
    buildPlan(
      readInputs(
        (n) =>
          ({
            images,
            platforms: 'linux/amd64',
            cache: 'none',
            latest: 'false',
            registries: '- {registry: ghcr.io, username: u, password: p}\n- {registry: docker.io, username: u, password: p}'
          })[n] ?? ''
      ),
      ctxFor('release-published'),
      'amd64'
    ),
    r,
    { loggedIn: () => undefined, builderCreated: () => undefined },
    { runId: '1', ghaCache: { reason: 'none' }, tempDir: mkdtempSync(join(tmpdir(), 'gdp-unit-')) }
  );

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

  it('one call tags both registries; when it fails, the tags that name the planned index are reported pushed, the others not', async () => {
    const engine = platformEngine('amd64');
    const planned = JSON.stringify({
      schemaVersion: 2,
      manifests: [{ digest: DIGEST(5), size: 1, platform: { os: 'linux', architecture: 'amd64' } }]
    });
    const r = new FakeRunner((args) => {
      if (args[2] === 'create' && args[3] === '--dry-run') return { stdout: `${planned}\n` };
      // ghcr.io took its tag, docker.io refused.
      if (args[2] === 'create') return { exitCode: 1, stderr: 'denied: requested access to the resource is denied' };
      if (args[2] === 'inspect' && args[4] === '--format={{json .Manifest}}')
        return args[3]?.startsWith('ghcr.io/')
          ? { stdout: JSON.stringify({ digest: indexDigestOf(`${planned}\n`) }) }
          : { exitCode: 1, stderr: 'not found' };
      return engine(args);
    });
    const res = await run('- names: [ghcr.io/o/a, docker.io/o/a]\n  smoke: ["--version"]', r);
    const creates = r.calls.filter((c) => c[2] === 'create' && c[3] !== '--dry-run');
    expect(creates.map((c) => c.filter((a) => a.startsWith('--tag=')))).toEqual([
      ['--tag=ghcr.io/o/a:v2.3.1', '--tag=docker.io/o/a:v2.3.1']
    ]);
    expect(res.error?.message).toMatch(/denied/);
    expect(res.pushedRefs).toEqual(['ghcr.io/o/a:v2.3.1']);
  });

  it('a registry that refuses the tags (401): the error names the registry, the tags and both ways to give credentials', async () => {
    const engine = platformEngine('amd64');
    const r = new FakeRunner((args) =>
      args[2] === 'create' && args[3] !== '--dry-run'
        ? {
            exitCode: 1,
            stderr:
              'ERROR: failed to push ghcr.io/o/a:v2.3.1: unexpected status from PUT request to https://ghcr.io/v2/o/a/manifests/v2.3.1: 401 Unauthorized'
          }
        : engine(args)
    );
    const res = await run('- name: ghcr.io/o/a\n  smoke: ["--version"]', r);
    expect(res.error?.message.split('\n')[0]).toMatch(
      /^Registry ghcr\.io refused the tags ghcr\.io\/o\/a:v2\.3\.1 \(401 Unauthorized\)\. Give the action credentials for ghcr\.io in one of two ways: a login step before this one .*, or the "registries" input/
    );
    expect(res.pushedRefs).toEqual([]);
  });
});
