// Registry faults, injected by a proxy in front of the real local registry (the action sees the
// proxy's 127.0.0.1:<port> as the registry; Docker, BuildKit and buildx talk plain HTTP to
// 127.0.0.0/8): 429/503 for a while, 503 for good, a registry that goes away mid-run, and two runs
// pushing at once. What is
// asserted is read back from the registry itself (localhost:5151), not from the action's word.
import { afterEach, describe, expect, it } from '@jest/globals';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { listTags, localPublishInputs, registryGet, runAction, uniqueRepo, type ActionRun } from './harness.js';

const TIMEOUT = 10 * 60 * 1000;

interface ImageOut {
  name: string;
  tags: string[];
  digest: string;
  pushed: boolean;
  size: Record<string, number>;
}

/** One linux/amd64 server image per repository, through the proxy, with its login. */
function run(proxy: FaultProxy, repos: string[], extra: Record<string, string> = {}, env?: Record<string, string>): Promise<ActionRun> {
  return runAction({
    inputs: {
      images: repos.map((r) => `- name: ${proxy.address}/${r}\n  smoke: { args: ["--version"], expect: "^server v" }\n`).join(''),
      platforms: 'linux/amd64',
      cache: 'none',
      latest: 'false',
      ...localPublishInputs(),
      registry: proxy.address,
      ...extra
    },
    event: 'release-published.json',
    eventName: 'release',
    ref: 'refs/tags/v2.3.1',
    env
  });
}

const images = (r: ActionRun): ImageOut[] => JSON.parse(r.outputs.images ?? '[]') as ImageOut[];
const warnings = (r: ActionRun): string[] => r.stdout.split('\n').filter((l) => l.startsWith('::warning::'));
const pushedTags = (r: ActionRun): string[] => (r.outputs['pushed-tags'] ?? '').split('\n').filter(Boolean);

describe('registry faults', () => {
  let proxy: FaultProxy | undefined;
  afterEach(async () => {
    await proxy?.close();
    proxy = undefined;
  });

  it(
    '429 then 503 for a while: login, push by digest and tag try again with backoff and succeed, and the tag is in the registry',
    async () => {
      proxy = await startFaultProxy();
      const repo = `${uniqueRepo('flaky')}/server`;
      // docker login makes two requests to /v2/: both 429, so its first try fails.
      proxy.failNext(2, { path: /^\/v2\/$/ }, 429);
      // The push by digest fails on a manifest, the tag on its PUT.
      proxy.failNext(1, { method: 'PUT', path: /\/manifests\/sha256:/ }, 503);
      proxy.failNext(1, { method: 'PUT', path: /\/manifests\/v2\.3\.1$/ }, 503);
      const r = await run(proxy, [repo]);

      expect(r.stdout).not.toMatch(/::error::/);
      expect(r.status).toBe(0);
      expect(proxy.seen.filter((q) => q.injected).map((q) => `${q.method} ${q.kind} ${q.status}`)).toEqual([
        'GET ping 429',
        'GET ping 429',
        'PUT manifest 503',
        'PUT manifest 503'
      ]);
      const ref = `${proxy.address}/${repo}:v2.3.1`;
      const retried = warnings(r).filter((l) => l.includes(' failed (try '));
      expect(retried[0]).toMatch(
        new RegExp(`^::warning::docker login ${esc(proxy.address)} failed \\(try 1 of 4\\), trying again in 2 s: .*429 Too Many Requests$`)
      );
      // What the action decided, whatever the tools' wording and own retries: each step that gave
      // up was tried again after the backoff, naming the registry's answer, and the step went on.
      const address = proxy.address;
      for (const line of retried.slice(1)) {
        expect(line).toMatch(
          new RegExp(
            `^::warning::(Pushing ${esc(address)}/${esc(repo)} \\(linux/amd64\\) by digest|Tagging ${esc(ref)}) failed \\(try 1 of 4\\), trying again in 2 s: .*503 Service Unavailable`
          )
        );
      }
      expect(r.outputs.pushed).toBe('true');
      expect(pushedTags(r)).toEqual([ref]);
      expect(await listTags(repo)).toEqual(['v2.3.1']);
      const [img] = images(r);
      expect(img?.pushed).toBe(true);
      expect(img?.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect((await registryGet(`${repo}/manifests/v2.3.1`)).digest).toBe(img?.digest);
    },
    TIMEOUT
  );

  it(
    '503 for good after login: the step fails after 4 tries naming the registry and its answer, and nothing is tagged',
    async () => {
      proxy = await startFaultProxy();
      const repo = `${uniqueRepo('down')}/server`;
      proxy.failAll({ path: /^\/v2\/.+/ }, 503);
      const r = await run(proxy, [repo]);

      expect(r.status).toBe(1);
      const what = `Pushing ${proxy.address}/${repo} (linux/amd64) by digest`;
      const error = r.stdout.split('\n').find((l) => l.startsWith('::error::')) ?? '';
      // The first line (the one the job summary shows) says what the registry answered.
      expect(error).toMatch(new RegExp(`^::error::${esc(what)} failed after 4 tries: .*503 Service Unavailable`));
      expect(r.summary).toMatch(new RegExp(`Failed: ${esc(what)} failed after 4 tries: .*503 Service Unavailable`));
      expect(warnings(r).filter((l) => l.includes(`${what} failed (try`))).toHaveLength(3);
      expect(r.outputs.pushed).toBe('false');
      expect(pushedTags(r)).toEqual([]);
      expect(images(r).map((i) => [i.pushed, i.digest])).toEqual([[false, '']]);
      expect(await listTags(repo)).toEqual([]);
    },
    TIMEOUT
  );

  it(
    'the registry goes away after the first image is tagged: the step fails, and exactly what is in the registry is reported pushed',
    async () => {
      proxy = await startFaultProxy();
      const ns = uniqueRepo('goaway');
      const [a, b] = [`${ns}/a`, `${ns}/b`];
      // Both images were pushed by digest before any tag; the registry goes away once a's tag is there.
      proxy.goAwayAfter({ method: 'PUT', path: new RegExp(`^/v2/${esc(a)}/manifests/v2\\.3\\.1$`) });
      const r = await run(proxy, [a, b]);

      expect(proxy.gone).toBe(true);
      expect(r.status).toBe(1);
      const refA = `${proxy.address}/${a}:v2.3.1`;
      const refB = `${proxy.address}/${b}:v2.3.1`;
      const errors = r.stdout.split('\n').filter((l) => l.startsWith('::error::'));
      expect(errors).toContain(`::error::Pushed before the failure: ${refA}. Not pushed: ${refB}.`);
      expect(errors.at(-1)).toMatch(new RegExp(`^::error::Tagging ${esc(refB)} failed after 4 tries: [^%]*connection refused`));
      expect(r.summary).toContain(`Pushed before the failure: ${refA}. Not pushed: ${refB}.`);
      // a's digest was known before its tag, and its sizes were read with the check: nothing is read back after the tags.
      expect(images(r)[0]?.size).toEqual({ 'linux/amd64': expect.any(Number) });

      expect(r.outputs.pushed).toBe('false');
      expect(pushedTags(r)).toEqual([refA]);
      const [imgA, imgB] = images(r);
      expect([imgA?.pushed, imgB?.pushed]).toEqual([true, false]);
      expect(imgB?.digest).toBe('');
      // What is reported is what is there.
      expect(await listTags(a)).toEqual(['v2.3.1']);
      expect(await listTags(b)).toEqual([]);
      expect((await registryGet(`${a}/manifests/v2.3.1`)).digest).toBe(imgA?.digest);
    },
    TIMEOUT
  );

  it(
    'two runs push to the same repository at once: no tag of one is overwritten by the other',
    async () => {
      proxy = await startFaultProxy();
      const repo = `${uniqueRepo('race')}/server`;
      // Hold the first manifest PUT of each run until both are there: the pushes really overlap.
      proxy.barrier(
        ['v1.0.0', 'v2.0.0'].map((tag) => ({ method: 'PUT', path: new RegExp(`/manifests/${esc(tag)}$`) })),
        60_000
      );
      const [r1, r2] = await Promise.all([
        run(proxy, [repo], { version: 'v1.0.0' }, { GITHUB_RUN_ID: `${Date.now()}1` }),
        run(proxy, [repo], { version: 'v2.0.0' }, { GITHUB_RUN_ID: `${Date.now()}2` })
      ]);

      for (const r of [r1, r2]) {
        expect(r.stdout).not.toMatch(/::error::/);
        expect(r.status).toBe(0);
        expect(r.outputs.pushed).toBe('true');
      }
      const puts = (tag: string): { at: number; done?: number }[] =>
        proxy?.seen.filter((s) => s.method === 'PUT' && s.path === `/v2/${repo}/manifests/${tag}`) ?? [];
      const [p1, p2] = [puts('v1.0.0'), puts('v2.0.0')];
      // One manifest PUT of each run was held until both were there: they were in flight together.
      expect(proxy.barrierTimedOut()).toBe(false);
      expect(p1[0] && p2[0] && p1[0].at <= (p2[0].done ?? 0) && p2[0].at <= (p1[0].done ?? 0)).toBe(true);

      expect(await listTags(repo)).toEqual(['v1.0.0', 'v2.0.0']);
      const d1 = images(r1)[0]?.digest;
      const d2 = images(r2)[0]?.digest;
      expect(d1).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(d2).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(d1).not.toBe(d2);
      expect((await registryGet(`${repo}/manifests/v1.0.0`)).digest).toBe(d1);
      expect((await registryGet(`${repo}/manifests/v2.0.0`)).digest).toBe(d2);
      expect(pushedTags(r1)).toEqual([`${proxy.address}/${repo}:v1.0.0`]);
      expect(pushedTags(r2)).toEqual([`${proxy.address}/${repo}:v2.0.0`]);
    },
    TIMEOUT
  );
});

function esc(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
