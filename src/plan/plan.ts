// inputs + event → Plan. Pure: the same function drives a real run and a dry run.
import type { BuildSecret, EventContext, Inputs, Plan, PlannedImage } from './types.js';
import { goPrivateArgs, goPrivateHosts, netrc, NETRC_SECRET } from './go-private.js';
import { resolveRelease } from './version.js';
import { normalizeRepository } from './reference.js';
import { withFloatingAnnotation } from './converge.js';
import { floatingTags } from './floating.js';
import { defaultBuildArgs, indexAnnotations, ociLabels } from './labels.js';
import { handoffScope } from './handoff.js';
import { archOf, platformsOf } from './platforms.js';

/** `runnerArch`: the runner's architecture (amd64, arm64, ...), which mode: platform builds by default. */
export function buildPlan(inputs: Inputs, ctx: EventContext, runnerArch = 'amd64'): Plan {
  const notices: string[] = [];
  const release = resolveRelease(ctx, { version: inputs.version, latest: inputs.latest, semverTags: inputs.semverTags });
  notices.push(...release.notices);

  const usedScopes = new Set<string>();
  const images: PlannedImage[] = inputs.images.map((img, i) => {
    const repositories = img.names.map((n, j) => {
      let r: ReturnType<typeof normalizeRepository>;
      try {
        r = normalizeRepository(n);
      } catch (e) {
        const where = img.names.length > 1 ? `images[${i}].names[${j}]` : `images[${i}].name`;
        throw new Error(`Input "${where}": ${(e as Error).message}`, { cause: e });
      }
      if (r.notice) notices.push(r.notice);
      return r.repository;
    });
    const name = repositories[0] ?? '';
    const title = name.split('/').pop() ?? name;
    const scope = uniqueScope(img.cacheScope ?? scopeFromName(name), usedScopes, img.cacheScope !== undefined);
    const labels = ociLabels(ctx, release, title, img.labels);
    const planned: PlannedImage = {
      name,
      repositories,
      refs: repositories.flatMap((r) => release.tags.map((t) => `${r}:${t}`)),
      dockerfile: img.dockerfile,
      context: img.context,
      platforms: img.platforms ?? inputs.platforms,
      buildArgs: defaultBuildArgs(ctx, release, withGoPrivate(inputs, { ...inputs.buildArgs, ...img.buildArgs })),
      labels,
      annotations: withFloatingAnnotation(indexAnnotations(labels), floatingTags(release)),
      smoke: img.smoke,
      cacheScope: scope
    };
    if (img.target !== undefined) planned.target = img.target;
    if (!img.smoke.enabled) notices.push(`smoke test of ${name} is turned off (smoke: false): it will be pushed untested`);
    return planned;
  });

  const handoff = handoffScope(images.map((i) => i.name));
  const built = inputs.mode === 'platform' ? runnerImages(images, inputs.buildPlatforms, runnerArch, notices) : images;

  let push: boolean;
  let pushReason: string;
  if (release.fromFork) {
    push = false;
    pushReason = 'a pull request from a fork never logs in and never pushes';
  } else if (inputs.push === 'true') {
    push = true;
    pushReason = 'push: true';
  } else if (inputs.push === 'false') {
    push = false;
    pushReason = 'push: false';
  } else {
    push = release.pushByDefault;
    pushReason = push
      ? `push: auto pushes for a ${ctx.eventName} event`
      : `push: auto does not push for a ${ctx.eventName || 'local'} event${ctx.ref ? ` (${ctx.ref})` : ''}`;
  }

  if (push && inputs.builder === 'docker') {
    throw new Error(
      `Input "builder": "docker" is not valid when the run pushes (${pushReason}). Expected "auto" or "docker-container": ` +
        'every image is pushed by digest and tagged only after its smoke tests, which the docker driver cannot do (buildx: "push-by-digest is currently not implemented for docker driver").'
    );
  }

  return {
    release,
    images: built,
    push,
    pushReason,
    registries: release.fromFork ? [] : inputs.registries,
    cache: inputs.cache,
    qemu: inputs.qemu,
    builder: inputs.builder,
    // A platform run tests every platform it builds: the merge job takes only tested platforms.
    smokePlatforms: inputs.mode === 'platform' ? 'all' : inputs.smokePlatforms,
    goCache: inputs.goCache,
    builderEndpoints: inputs.builderEndpoints,
    latest: inputs.latest,
    notices,
    mode: inputs.mode,
    handoffScope: handoff,
    sign: inputs.sign,
    attest: attestSpec(inputs, ctx),
    provenance: inputs.provenance,
    sbom: inputs.sbom,
    ...buildSecrets(inputs)
  };
}

/**
 * What the run attests. The Sigstore instance of GitHub's attestations is the one @actions/attest
 * picks by itself: Sigstore's public-good instance (Rekor) for a public repository, GitHub's own
 * (a timestamp authority, no public log) otherwise; chosen here so that the read-back knows it.
 */
function attestSpec(inputs: Inputs, ctx: EventContext): Plan['attest'] {
  const visibility = (ctx.payload.repository as { visibility?: unknown } | undefined)?.visibility;
  return {
    smoke: inputs.attest.smoke,
    github: inputs.attest.github ? { token: inputs.attest.token, sigstore: visibility === 'public' ? 'public-good' : 'github' } : false
  };
}

/** The workflow's build args with those of go-private; the workflow's win, a GOPROXY of theirs follows the private proxy. */
function withGoPrivate(inputs: Inputs, user: Record<string, string>): Record<string, string> {
  if (!inputs.goPrivate) return user;
  const go = goPrivateArgs(inputs.goPrivate, user.GOPROXY);
  return { ...go, ...user, ...(go.GOPROXY ? { GOPROXY: go.GOPROXY } : {}) };
}

/**
 * Every build's secrets: `secrets` values and the go-private netrc reach buildx through variables
 * of its environment (GDP_SECRET_<n>), `secret-envs` through the step's own, `secret-files` as
 * files; never an argument or a build arg.
 */
function buildSecrets(inputs: Inputs): Pick<Plan, 'buildSecrets' | 'ssh' | 'secretEnv' | 'goPrivate'> {
  const s = inputs.buildSecrets;
  const secretEnv: Record<string, string> = {};
  const list: BuildSecret[] = [];
  s.secrets.forEach((x, i) => {
    secretEnv[`GDP_SECRET_${i}`] = x.value;
    list.push({ id: x.id, env: `GDP_SECRET_${i}`, from: 'secrets' });
  });
  for (const x of s.envs) list.push({ id: x.id, env: x.env, from: 'secret-envs' });
  for (const x of s.files) list.push({ id: x.id, file: x.path, from: 'secret-files' });
  const g = inputs.goPrivate;
  if (g?.token) {
    const taken = list.find((x) => x.id === NETRC_SECRET);
    if (taken)
      throw new Error(
        `Input "${taken.from}": the secret id "${NETRC_SECRET}" is not valid with go-private-token. Expected another id: the action makes the ${NETRC_SECRET} secret from go-private-token.`
      );
    secretEnv.GDP_SECRET_NETRC = netrc(g);
    list.push({ id: NETRC_SECRET, env: 'GDP_SECRET_NETRC', from: 'go-private-token' });
  }
  return {
    buildSecrets: list,
    ssh: s.ssh,
    secretEnv,
    ...(g ? { goPrivate: { patterns: g.patterns, hosts: g.token ? goPrivateHosts(g) : [], proxy: g.proxy !== undefined } } : {})
  };
}

/**
 * mode: platform: each image keeps the platforms this runner builds (build-platforms, else those of
 * the runner's architecture); an image with none is left to the other runners, with a notice.
 */
function runnerImages(images: PlannedImage[], buildPlatforms: string[] | undefined, arch: string, notices: string[]): PlannedImage[] {
  const mine = (p: string): boolean => (buildPlatforms ? buildPlatforms.includes(p) : archOf(p) === arch);
  const out = images.flatMap((img) => {
    const platforms = img.platforms.filter(mine);
    if (platforms.length === 0)
      notices.push(`mode: platform: ${img.name} has no platform this runner builds; other runners of the matrix build it`);
    return platforms.length ? [{ ...img, platforms }] : [];
  });
  if (out.length === 0) {
    const what = buildPlatforms ? `"${buildPlatforms.join(',')}"` : `linux/${arch} (the runner's own, as build-platforms is not set)`;
    throw new Error(
      `Input "build-platforms": ${what} is not valid here. Expected at least one of the images' platforms (${platformsOf(images).join(', ')}): mode: platform builds only those on this runner.`
    );
  }
  return out;
}

/** A cache scope from a repository name: ghcr.io/Org/app → ghcr.io-org-app. */
export function scopeFromName(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9._-]+/g, '-');
}

function uniqueScope(scope: string, used: Set<string>, explicit: boolean): string {
  if (used.has(scope)) {
    if (explicit)
      throw new Error(
        `Input "images": cache-scope "${scope}" is used by two images; each image needs its own scope so that one never overwrites the other's cache.`
      );
    let n = 2;
    while (used.has(`${scope}-${n}`)) n++;
    scope = `${scope}-${n}`;
  }
  used.add(scope);
  return scope;
}
