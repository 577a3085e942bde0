// The repository's Actions cache at its cap, for real, through the local cache service v2 refusing
// as github.com does: the layer cache's blobs ("failed to reserve cache", what BuildKit says when
// the service declines) and the Go cache's save in the post step (403 "insufficient usage": the
// storage quota). Both are warnings that say why, the run is green, and the job summary says which
// caches were not saved and why. A Dockerfile of two lines on the busybox base, one cache mount:
// nothing to compile. Runs once (jest.config.js: ENGINE_FREE): the caches do not depend on the
// image store.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startCacheServer, type CacheServer } from '../support/gha-cache-server.js';
import { LOCAL_BASE_ARGS, REGISTRY, runAction, uniqueRepo, type ActionRun } from './harness.js';

describe('the Actions cache at its cap: the layer cache and the Go cache not saved', () => {
  let cache: CacheServer;
  let run: ActionRun;
  const name = `${REGISTRY}/${uniqueRepo('cap')}/app`;

  beforeAll(
    async () => {
      const workspace = mkdtempSync(join(tmpdir(), 'gdp-cap-'));
      writeFileSync(
        join(workspace, 'Dockerfile'),
        'ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nRUN --mount=type=cache,target=/root/.cache/go-build echo compiled > /root/.cache/go-build/obj && echo built > /built\n'
      );
      cache = await startCacheServer({
        refusals: [
          { kind: 'not-ok', keyPrefix: 'buildkit-blob-' },
          { kind: 'quota', keyPrefix: 'gdp-go-' }
        ]
      });
      run = await runAction({
        inputs: {
          images: `- name: ${name}\n  smoke: ["true"]`,
          platforms: 'linux/amd64',
          cache: 'gha',
          push: 'false',
          'build-args': LOCAL_BASE_ARGS
        },
        event: 'release-published.json',
        eventName: 'release',
        ref: 'refs/tags/v2.3.1',
        cwd: workspace,
        env: cache.env('v2')
      });
    },
    10 * 60 * 1000
  );
  afterAll(async () => {
    await cache?.close();
  });

  it('the run and its post step are green', () => {
    expect(run.status === 0 ? '' : run.stdout.split('\n').slice(-30).join('\n')).toBe('');
    expect(run.post?.status).toBe(0);
    expect(cache.refused()).toEqual(expect.objectContaining({ 'not-ok': expect.any(Number), quota: 1 }));
  });

  it('the layer cache: a warning naming the cap, and the summary says it was not saved and why', () => {
    expect(run.stdout).toMatch(
      new RegExp(
        `::warning::${name.replace(/[.]/g, '\\.')}: the build cache was not saved, the cache service refused to reserve the entry \\(the repository's Actions cache may be at its cap, 10 GB per repository`
      )
    );
    expect(run.stdout).toContain('failed to reserve cache');
    expect(run.summary).toContain(
      "cache not saved (the cache service refused to reserve the entry (the repository's Actions cache may be at its cap"
    );
  });

  it('the Go cache: post warns that the cache is at its cap, and adds to the summary which cache was not saved and why', () => {
    expect(run.post?.stdout).toMatch(
      new RegExp(
        `::warning::Go cache of ${name.replace(/[.]/g, '\\.')}: not saved, the repository's Actions cache is at its cap \\(10 GB per repository unless the repository raised it\\)`
      )
    );
    expect(run.post?.summary).toContain('go-docker-publish: caches not saved');
    expect(run.post?.summary).toMatch(/Go cache of [^<]*: the repository's Actions cache is at its cap \(10 GB[^<]*\(gdp-go-/);
    expect(cache.entries().filter((k) => k.startsWith('gdp-go-'))).toEqual([]);
  });
});
