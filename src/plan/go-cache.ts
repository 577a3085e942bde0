// Go caches that survive runs (pure half): the @actions/cache keys and the two throwaway
// Dockerfiles that move the contents of BuildKit cache mounts (RUN --mount=type=cache: the Go
// build cache and module cache) between the builder and a directory on the runner.
//
// BuildKit keeps a cache mount by its id (the target path when no id is given), so a build that
// mounts the same id elsewhere sees the same files. Restore: bind-mount the directory from the
// context and copy it into the mount. Extract: copy the mount into the image and export it with
// the local exporter. Both pass a fresh NONCE so the RUN step never comes from the layer cache;
// `--no-cache` cannot be used: BuildKit then gives the step empty cache mounts.
import { createHash } from 'node:crypto';

/** A cache mount of a used stage, as the Dockerfile check reports it. */
export interface GoCacheMount {
  id: string;
  target: string;
  sharing?: string;
  uid?: string;
  gid?: string;
  mode?: string;
}

export interface GoCacheKeys {
  key: string;
  restoreKeys: string[];
}

const SAFE = /^[A-Za-z0-9._/@:+-]+$/;

/** Mounts whose id and options can be written into a Dockerfile flag without quoting. */
export function usableMounts(mounts: GoCacheMount[]): GoCacheMount[] {
  return mounts.filter((m) => [m.id, m.target, m.sharing, m.uid, m.gid, m.mode].every((v) => v === undefined || SAFE.test(v)));
}

const short = (s: string, n = 16): string => createHash('sha256').update(s).digest('hex').slice(0, n);

/**
 * Keyed on the image (its cache scope), the platform set and go.sum; ends with the run so each
 * run saves what it compiled. Restore keys fall back to the newest entry with the same go.sum,
 * then to any go.sum for the same image and platforms (a changed go.sum still starts warm).
 */
export function goCacheKeys(o: { scope: string; platforms: string[]; goSum: string; mounts: GoCacheMount[]; run: string }): GoCacheKeys {
  const platforms = short([...o.platforms].sort().join(','), 8);
  const mounts = short(
    o.mounts
      .map((m) => m.id)
      .sort()
      .join(','),
    8
  );
  const base = `gdp-go-${o.scope}-${platforms}${mounts}-`;
  const sum = `${base}${short(o.goSum)}-`;
  return { key: `${sum}${o.run}`, restoreKeys: [sum, base] };
}

function mountFlag(m: GoCacheMount, i: number): string {
  const opts = [`type=cache`, `id=${m.id}`, `target=/gdp/cache/m${i}`, `sharing=${m.sharing ?? 'locked'}`];
  for (const k of ['uid', 'gid', 'mode'] as const) if (m[k] !== undefined) opts.push(`${k}=${m[k]}`);
  return `--mount=${opts.join(',')}`;
}

/** Copies <context>/m<i> into each cache mount. The image needs sh and cp (any golang image has them). */
export function restoreDockerfile(image: string, mounts: GoCacheMount[]): string {
  const lines = mounts.map(
    (m, i) =>
      `RUN --mount=type=bind,source=m${i},target=/gdp/in/m${i} ${mountFlag(m, i)} echo "$NONCE" && cp -a /gdp/in/m${i}/. /gdp/cache/m${i}/`
  );
  return [`FROM --platform=$BUILDPLATFORM ${image}`, 'ARG NONCE', ...lines, ''].join('\n');
}

/** Copies each cache mount to /m<i> of an image exported with --output type=local. */
export function extractDockerfile(image: string, mounts: GoCacheMount[]): string {
  const lines = mounts.map(
    (m, i) => `RUN ${mountFlag(m, i)} echo "$NONCE" && mkdir -p /gdp/out/m${i} && cp -a /gdp/cache/m${i}/. /gdp/out/m${i}/`
  );
  return [
    `FROM --platform=$BUILDPLATFORM ${image} AS extract`,
    'ARG NONCE',
    ...lines,
    'FROM scratch',
    'COPY --from=extract /gdp/out /',
    ''
  ].join('\n');
}
