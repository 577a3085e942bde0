// Registry faults, injected by a proxy in front of the real local registry (the action sees the
// proxy's 127.0.0.1:<port> as the registry; Docker, BuildKit and buildx talk plain HTTP to
// 127.0.0.0/8): 429/503 for a while, 503 for good, a registry that goes away mid-run, and two runs
// pushing at once. What is asserted is read back from the registry itself (localhost:5151) and
// from the requests the proxy saw, not from the action's word.
import { afterEach, describe, expect, it } from '@jest/globals';
import { startFaultProxy, type FaultProxy, type SeenRequest } from '../support/fault-proxy.js';
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
    '429 then 503 for a while: login, push by digest and tag each try again once with backoff and succeed, and the tag is in the registry',
    async () => {
      proxy = await startFaultProxy();
      const repo = `${uniqueRepo('flaky')}/server`;
      // Enough faults that each tool gives up once, so that the action's own retry is what gets
      // through (the tools retry by themselves first; checked with this stack): docker login
      // makes two requests to /v2/ per try; BuildKit tries a manifest PUT 4 times (1, 2, 4 s
      // apart), containerd's pusher twice each, so 8 answers fail one push; `imagetools create`
      // tries a PUT twice.
      const index = { method: 'PUT', path: /\/manifests\/sha256:/, contentType: /image\.index/ };
      const tag = { method: 'PUT', path: /\/manifests\/v2\.3\.1$/ };
      proxy.failNext(2, { path: /^\/v2\/$/ }, 429);
      proxy.failNext(8, index, 503);
      proxy.failNext(2, tag, 503);
      const r = await run(proxy, [repo]);

      expect(r.stdout).not.toMatch(/::error::/);
      expect(r.status).toBe(0);
      expect(proxy.seen.filter((q) => q.injected).map((q) => `${q.method} ${q.kind} ${q.status}`)).toEqual([
        ...Array<string>(2).fill('GET ping 429'),
        ...Array<string>(8).fill('PUT manifest 503'),
        ...Array<string>(2).fill('PUT manifest 503')
      ]);
      // Each step's requests as the registry side saw them: the faults, then the action's second
      // try got through (login: a 401 challenge, then 200).
      const statuses = (m: (q: SeenRequest) => boolean): number[] => proxy?.seen.filter(m).map((q) => q.status) ?? [];
      expect(statuses((q) => q.kind === 'ping').slice(0, 4)).toEqual([429, 429, 401, 200]);
      // The push by digest: the tools tried the PUT of one index 8 times, then the action's second
      // try pushed (a new index: the provenance of a second export differs) and it went through.
      const byDigest = (q: SeenRequest): boolean => q.method === 'PUT' && /\/manifests\/sha256:/.test(q.path);
      const faulted = proxy.seen.filter((q) => byDigest(q) && q.injected);
      expect(new Set(faulted.map((q) => q.path)).size).toBe(1);
      const after = proxy.seen.slice(proxy.seen.lastIndexOf(faulted.at(-1) as SeenRequest) + 1).filter(byDigest);
      expect(after.map((q) => q.status)).toContain(201);
      expect(after.every((q) => q.status === 201)).toBe(true);
      expect(statuses((q) => q.method === 'PUT' && tag.path.test(q.path))).toEqual([503, 503, 201]);
      // The action tried each step again exactly once, after 2 s, naming the registry's answer
      // (the last line of the tool's output: the status, or the registry's error message).
      const ref = `${proxy.address}/${repo}:v2.3.1`;
      const address = esc(proxy.address);
      expect(warnings(r).filter((l) => l.includes(' failed (try '))).toEqual([
        expect.stringMatching(
          new RegExp(`^::warning::docker login ${address} failed \\(try 1 of 4\\), trying again in 2 s: .*429 Too Many Requests$`)
        ),
        expect.stringMatching(
          new RegExp(
            `^::warning::Pushing ${address}/${esc(repo)} \\(linux/amd64\\) by digest failed \\(try 1 of 4\\), trying again in 2 s: .*[Ss]ervice [Uu]navailable`
          )
        ),
        expect.stringMatching(
          new RegExp(`^::warning::Tagging ${esc(ref)} failed \\(try 1 of 4\\), trying again in 2 s: .*[Ss]ervice [Uu]navailable`)
        )
      ]);
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
