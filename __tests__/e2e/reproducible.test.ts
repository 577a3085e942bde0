// Reproducible images: two cold builds of one commit (each run creates its own builder, so the
// second starts with no build cache at all, and no gha cache is used) push the same per-platform
// manifest digests: the layers' file times are clamped to SOURCE_DATE_EPOCH, the commit time
// (rewrite-timestamp), and the config's dates come from it too. Only the provenance differs.
import { execFileSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { ENGINE, localPublishInputs, platformManifests, REGISTRY, ROOT, runAction, uniqueRepo, type ActionRun } from './harness.js';

describe(`two cold builds of one commit (${ENGINE} image store)`, () => {
  const repo = `${uniqueRepo('repro')}/server`;
  const sha = execFileSync('git', ['-C', ROOT, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
  const runs: ActionRun[] = [];
  const manifests: Record<string, string>[] = [];

  beforeAll(
    async () => {
      for (let i = 0; i < 2; i++) {
        const r = await runAction({
          inputs: {
            images: `- name: ${REGISTRY}/${repo}\n  smoke: ["--version"]`,
            platforms: 'linux/amd64,linux/arm64',
            ...localPublishInputs(),
            cache: 'none',
            'go-cache': 'false'
          },
          event: 'release-published.json',
          eventName: 'release',
          ref: 'refs/tags/v2.3.1',
          sha,
          env: { GITHUB_RUN_ID: `${Date.now()}${i}` }
        });
        if (r.status !== 0) throw new Error(`run ${i + 1} failed:\n${r.stdout.split('\n').slice(-40).join('\n')}`);
        runs.push(r);
        manifests.push(await platformManifests(repo, 'v2.3.1'));
      }
    },
    15 * 60 * 1000
  );

  it('each run built in a builder of its own, from nothing', () => {
    const created = runs.map((r) => /Builder: created "([^"]+)"/.exec(r.stdout)?.[1]);
    expect(created[0]).toMatch(/^go-docker-publish-/);
    expect(created[1]).toMatch(/^go-docker-publish-/);
    expect(created[1]).not.toBe(created[0]);
    for (const r of runs) expect(r.stdout).toMatch(/Built \S+ in [\d.]+ s; 0 of \d+ steps from the cache/);
  });

  it('pushes the same manifest digest for every platform', () => {
    expect(Object.keys(manifests[0] ?? {}).sort()).toEqual(['linux/amd64', 'linux/arm64']);
    expect(manifests[1]).toEqual(manifests[0]);
  });
});
