import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ExecResult } from '../../src/run/runner.js';
import { describe, expect, it } from '@jest/globals';
import { extractDockerfile, goCacheKeys, restoreDockerfile, usableMounts } from '../../src/plan/go-cache.js';
import type { CacheStore } from '../../src/run/actions-cache.js';
import { cachePath, parseMountSizes, restoreGoCache, saveGoCache, type GoCacheEntry } from '../../src/run/go-cache.js';
import { FakeRunner } from '../support/fake-runner.js';

const mounts = [
  { id: '/root/.cache/go-build', target: '/root/.cache/go-build' },
  { id: 'gomod', target: '/go/pkg/mod', sharing: 'shared', uid: '1000' }
];

describe('Go cache keys', () => {
  const keys = (over: Partial<Parameters<typeof goCacheKeys>[0]> = {}) =>
    goCacheKeys({ scope: 'ghcr.io-org-app', platforms: ['linux/amd64', 'linux/arm64'], goSum: 'sum-1', mounts, run: '77-1', ...over });

  it('key: image, platform set, mounts, go.sum, then the run; restore keys drop the run, then go.sum', () => {
    const k = keys();
    expect(k.key).toMatch(/^gdp-go-ghcr\.io-org-app-[0-9a-f]{16}-[0-9a-f]{16}-77-1$/);
    expect(k.restoreKeys).toHaveLength(2);
    expect(k.key.startsWith(k.restoreKeys[0] ?? '?')).toBe(true);
    expect((k.restoreKeys[0] ?? '').startsWith(k.restoreKeys[1] ?? '?')).toBe(true);
  });

  it('a changed go.sum changes the key but keeps the wider restore key (starts warm)', () => {
    const a = keys();
    const b = keys({ goSum: 'sum-2' });
    expect(b.restoreKeys[0]).not.toBe(a.restoreKeys[0]);
    expect(b.restoreKeys[1]).toBe(a.restoreKeys[1]);
  });

  it('the platform set counts, not its order; another image or mount set is another cache', () => {
    expect(keys({ platforms: ['linux/arm64', 'linux/amd64'] })).toEqual(keys());
    expect(keys({ platforms: ['linux/amd64'] }).restoreKeys[1]).not.toBe(keys().restoreKeys[1]);
    expect(keys({ scope: 'other' }).restoreKeys[1]).not.toBe(keys().restoreKeys[1]);
    expect(keys({ mounts: mounts.slice(0, 1) }).restoreKeys[1]).not.toBe(keys().restoreKeys[1]);
  });

  it('the runner path is the same for every go.sum and run (@actions/cache versions by path)', () => {
    expect(cachePath(keys()).pattern).toBe(cachePath(keys({ goSum: 'x', run: '9-2' })).pattern);
    expect(cachePath(keys()).pattern).toMatch(/^~\/\.cache\/go-docker-publish\/gdp-go-ghcr\.io-org-app-[0-9a-f]{16}$/);
  });
});

describe('cache mount sizes from docker buildx du', () => {
  it('adds up the records of each id (buildx 0.13 output; the id has a leading slash more)', () => {
    const out = [
      'ID:\t\tshdy2nwbuo4wltl9l6i9hqzdp',
      'Size:\t\t70.38MB',
      'Description:\tcached mount /root/.cache/go-build from exec /bin/sh -c CGO_ENABLED=0 go build -o /out/server ./cmd/server with id "//root/.cache/go-build"',
      'Type:\t\texec.cachemount',
      '',
      'ID:\t\tjaw8zm7d8g3a1q7tsyhnbxhty',
      'Size:\t\t4.096kB',
      'Description:\tcached mount /go/pkg/mod from exec /bin/sh -c go build with id "//go/pkg/mod"',
      '',
      'ID:\t\tother',
      'Size:\t\t1.5MB',
      'Description:\tcached mount /x from exec cp with id "gomod"'
    ].join('\n');
    expect(parseMountSizes(out)).toEqual({ '/root/.cache/go-build': 70_380_000, '/go/pkg/mod': 4096, gomod: 1_500_000 });
  });
});

describe('cache-mount Dockerfiles', () => {
  it('restore: bind the saved directory, copy into the mount with its id and options, never from the layer cache', () => {
    expect(restoreDockerfile('golang:1.24-alpine', mounts)).toBe(
      [
        'FROM --platform=$BUILDPLATFORM golang:1.24-alpine',
        'ARG NONCE',
        'RUN --mount=type=bind,source=m0,target=/gdp/in/m0 --mount=type=cache,id=/root/.cache/go-build,target=/gdp/cache/m0,sharing=locked echo "$NONCE" && cp -a /gdp/in/m0/. /gdp/cache/m0/',
        'RUN --mount=type=bind,source=m1,target=/gdp/in/m1 --mount=type=cache,id=gomod,target=/gdp/cache/m1,sharing=shared,uid=1000 echo "$NONCE" && cp -a /gdp/in/m1/. /gdp/cache/m1/',
        ''
      ].join('\n')
    );
  });

  it('extract: copy each mount to /m<i> of a scratch image for the local exporter', () => {
    const d = extractDockerfile('golang:1.24-alpine', mounts.slice(0, 1));
    expect(d).toContain('FROM --platform=$BUILDPLATFORM golang:1.24-alpine AS extract');
    expect(d).toContain('--mount=type=cache,id=/root/.cache/go-build,target=/gdp/cache/m0,sharing=locked');
    expect(d).toContain('cp -a /gdp/cache/m0/. /gdp/out/m0/');
    expect(d).toMatch(/FROM scratch\nCOPY --from=extract \/gdp\/out \/\n$/);
  });

  it('leaves out mounts whose options would need quoting in a Dockerfile', () => {
    expect(usableMounts([...mounts, { id: 'a b', target: '/x' }, { id: 'c', target: '/y,uid=0' }])).toEqual(mounts);
  });
});

describe('restore and save with a fake cache service', () => {
  const entry = (): GoCacheEntry => ({
    image: 'ghcr.io/org/app',
    baseImage: 'golang:1.24-alpine',
    mounts: mounts.slice(0, 1),
    builder: 'default',
    ...goCacheKeys({ scope: `unit-${process.pid}`, platforms: ['linux/amd64'], goSum: 's', mounts: mounts.slice(0, 1), run: '1-1' })
  });
  const store = (o: Partial<CacheStore> & { files?: boolean } = {}): CacheStore & { saved: string[] } => {
    const saved: string[] = [];
    return {
      saved,
      available: () => true,
      restore: async (paths, key, restoreKeys) => {
        expect(paths).toEqual([cachePath(entry()).pattern]);
        expect(key).toBe(entry().key);
        expect(restoreKeys).toEqual(entry().restoreKeys);
        if (o.files === false) return undefined;
        mkdirSync(`${cachePath(entry()).dir}/m0`, { recursive: true });
        writeFileSync(`${cachePath(entry()).dir}/m0/obj`, 'compiled');
        return `${entry().restoreKeys[0]}0-1`;
      },
      save: async (_paths, key) => {
        saved.push(key);
        return { saved: true as const };
      },
      ...o
    };
  };

  const du = (mb: number): string =>
    `ID:\t\tx\nSize:\t\t${mb}MB\nDescription:\tcached mount /root/.cache/go-build from exec /bin/sh -c go build with id "//root/.cache/go-build"\nType:\t\texec.cachemount\n`;
  const builds = (r: FakeRunner): string[][] => r.calls.filter((c) => c[1] === 'build');
  /** Answers like the engine: du lists the mounts; an extract build writes the mounts' files. */
  const engine =
    (mb: number) =>
    (a: string[]): Partial<ExecResult> => {
      if (a[1] === 'du') return { stdout: du(mb) };
      const dest = a.find((x) => x.startsWith('--output=type=local,dest='))?.slice('--output=type=local,dest='.length);
      if (dest) {
        mkdirSync(join(dest, 'm0'), { recursive: true });
        writeFileSync(join(dest, 'm0', 'obj'), 'compiled');
      }
      return {};
    };

  it('restores the newest entry into an empty builder with one throwaway build, then removes the files', async () => {
    const r = new FakeRunner();
    const e = entry();
    expect(await restoreGoCache(e, r, store())).toBe(`restored ${entry().restoreKeys[0]}0-1`);
    expect(e.restoredKey).toBe(`${entry().restoreKeys[0]}0-1`);
    expect(builds(r)).toHaveLength(1);
    expect(builds(r)[0]?.slice(0, 4)).toEqual(['buildx', 'build', '--builder=default', '--progress=plain']);
    expect(builds(r)[0]).toContain('--output=type=cacheonly');
    expect(builds(r)[0]?.find((a) => a.startsWith('--build-arg=NONCE='))).toBeDefined();
    expect(existsSync(cachePath(entry()).dir)).toBe(false);
  });

  it('a builder that still holds the caches (self-hosted) is not restored into; the matching entry is only looked up', async () => {
    const r = new FakeRunner((a) => (a[1] === 'du' ? { stdout: du(70.38) } : {}));
    const looked: boolean[] = [];
    const s = store({
      restore: async (_p, _k, rk, lookupOnly) => {
        looked.push(lookupOnly ?? false);
        return `${rk[0]}9-1`;
      }
    });
    const e = entry();
    expect(await restoreGoCache(e, r, s)).toBe(`kept in the builder (matches ${entry().restoreKeys[0]}9-1)`);
    expect(looked).toEqual([true]);
    expect(builds(r)).toEqual([]);
    expect(e.sizesAtStart).toEqual({ '/root/.cache/go-build': 70_380_000 });
  });

  it('runs nothing when nothing was saved yet, and a failing service is a warning, not an error', async () => {
    const r = new FakeRunner();
    expect(await restoreGoCache(entry(), r, store({ files: false }))).toBe('cold: nothing restored');
    const failing = store({
      restore: async () => {
        throw new Error('Cache service responded with 503');
      }
    });
    expect(await restoreGoCache(entry(), r, failing)).toBe('cold: the cache service failed');
    expect(builds(r)).toEqual([]);
  });

  it('post does not save again what it restored when the mounts did not change', async () => {
    const s = store();
    const r = new FakeRunner(engine(70.38));
    const e = { ...entry(), restoredKey: 'k-1', sizesAtStart: { '/root/.cache/go-build': 70_380_000 } };
    expect(await saveGoCache(e, r, s)).toBe(true);
    expect(s.saved).toEqual([]);
    expect(builds(r)).toEqual([]);
    expect(await saveGoCache({ ...e, sizesAtStart: { '/root/.cache/go-build': 1 } }, r, s)).toBe(true);
    expect(s.saved).toEqual([entry().key]);
  });

  it('saves under the run key after copying the mounts out; empty mounts or a failed copy save nothing and do not throw', async () => {
    const s = store();
    const r = new FakeRunner(engine(5));
    expect(await saveGoCache(entry(), r, s)).toBe(true);
    expect(builds(r)[0]).toContain(`--output=type=local,dest=${cachePath(entry()).dir}`);
    expect(s.saved).toEqual([entry().key]);
    expect(await saveGoCache(entry(), new FakeRunner(), s)).toBe(false);
    expect(s.saved).toEqual([entry().key]);
    const s2 = store();
    expect(await saveGoCache(entry(), new FakeRunner(() => ({ exitCode: 1 })), s2)).toBe(false);
    expect(s2.saved).toEqual([]);
  });
});
