// `docker buildx build` command lines, built by pure functions from the plan. Values always go in
// `--flag=value` form, so nothing from an event or input can be read by docker as a flag.
import type { BuildPart } from '../parts.js';
import type { BuildSecret, Plan, PlannedImage } from '../types.js';

/**
 * Where one build invocation sends its result. Every image is built once into the builder's cache,
 * then the same build (all cache hits) is exported again for each use:
 * - cacheonly: the build itself, every platform, with the gha/registry cache;
 * - load: one platform into an engine's image store, under `name`, for its smoke test (`dest`: as
 *   a tar file for `docker load`, when the builder's engine is not the runner's);
 * - push-by-digest: every platform to `repository`, untagged; tags come after every image passed.
 * `rewriteTimestamp` clamps file times in the layers to SOURCE_DATE_EPOCH (reproducible digests);
 * the load and the push of one image use the same value, so the tested image is the pushed one.
 */
export type BuildOutput =
  // saveCache false: the layer cache is read, not written (a build of some platforms only).
  | { type: 'cacheonly'; saveCache?: false }
  | { type: 'load'; name: string; dest?: string; rewriteTimestamp: boolean }
  | { type: 'push-by-digest'; repository: string; rewriteTimestamp: boolean; attestations: Attestations };

/** What BuildKit attaches to a pushed image: provenance (mode min or max, or none) and an SBOM. */
export interface Attestations {
  provenance: 'min' | 'max' | 'false';
  sbom: boolean;
}

export interface BuildOptions {
  builder: string;
  platforms: string[];
  cacheFrom: string[];
  cacheTo: string[];
  metadataFile: string;
  output: BuildOutput;
  /** BuildKit progress output; 'plain' gives the step log the cache counting reads. */
  progress?: 'plain';
  /** Build secrets (from a variable or a file: the value is never an argument) and SSH agents or keys. */
  secrets?: BuildSecret[];
  ssh?: string[];
}

export function buildxBuildArgs(img: PlannedImage, o: BuildOptions): string[] {
  const a = [
    'buildx',
    'build',
    ...(o.progress ? [`--progress=${o.progress}`] : []),
    `--builder=${o.builder}`,
    `--platform=${o.platforms.join(',')}`,
    `--file=${img.derived?.file ?? img.dockerfile}`
  ];
  if (img.target) a.push(`--target=${img.target}`);
  for (const [k, v] of Object.entries(img.labels)) a.push(`--label=${k}=${v}`);
  for (const [k, v] of Object.entries(img.buildArgs)) a.push(`--build-arg=${k}=${v}`);
  for (const x of o.secrets ?? []) a.push(`--secret=id=${x.id},${'env' in x ? `env=${x.env}` : `src=${x.file}`}`);
  for (const x of o.ssh ?? []) a.push(`--ssh=${x}`);
  for (const c of o.cacheFrom) a.push(`--cache-from=${c}`);
  for (const c of o.cacheTo) a.push(`--cache-to=${c}`);
  a.push(`--metadata-file=${o.metadataFile}`, ...outputArgs(o.output));
  a.push(contextArg(img.context));
  return a;
}

function outputArgs(o: BuildOutput): string[] {
  const rewrite = o.type !== 'cacheonly' && o.rewriteTimestamp ? ',rewrite-timestamp=true' : '';
  switch (o.type) {
    case 'cacheonly':
      return ['--output=type=cacheonly'];
    case 'load':
      // One platform, no attestations: what `docker run` runs.
      return [`--output=type=docker,name=${o.name}${o.dest ? `,dest=${o.dest}` : ''}${rewrite}`, '--provenance=false'];
    case 'push-by-digest':
      return [
        `--output=type=image,name=${o.repository},push-by-digest=true,name-canonical=true,push=true${rewrite}`,
        o.attestations.provenance === 'false' ? '--provenance=false' : `--provenance=mode=${o.attestations.provenance}`,
        ...(o.attestations.sbom ? ['--sbom=true'] : [])
      ];
  }
}

export function cacheArgs(cache: 'gha' | 'registry' | 'none', img: PlannedImage): { from: string[]; to: string[] } {
  if (cache === 'gha') {
    return { from: [`type=gha,scope=${img.cacheScope}`], to: [`type=gha,mode=max,scope=${img.cacheScope},ignore-error=true`] };
  }
  if (cache === 'registry') {
    const ref = `${img.name}:buildcache-${img.cacheScope.replace(/[^A-Za-z0-9_.-]/g, '-')}`.slice(0, 255);
    return { from: [`type=registry,ref=${ref}`], to: [`type=registry,ref=${ref},mode=max,ignore-error=true`] };
  }
  return { from: [], to: [] };
}

/**
 * The command of one part of an image's build with the given output. A node's part runs in its
 * Docker context and names its builder (BUILDX_BUILDER in the environment must not win); the
 * gha/registry cache is the runner's part's only (a node keeps its own cache): the build reads
 * and writes it, a load that builds its platform before the build (the first smoke test) reads it.
 */
export function partArgs(
  plan: Plan,
  img: PlannedImage,
  part: BuildPart,
  builder: string,
  output: BuildOutput,
  metadataFile: string,
  cacheAvailable: boolean
): string[] {
  const layerCache = cacheAvailable && !part.node && output.type !== 'push-by-digest' ? cacheArgs(plan.cache, img) : { from: [], to: [] };
  const cache = output.type === 'cacheonly' && output.saveCache !== false ? layerCache : { from: layerCache.from, to: [] };
  const args = buildxBuildArgs(img, {
    builder: part.node ? part.node.builder : builder,
    platforms: part.platforms,
    cacheFrom: cache.from,
    cacheTo: cache.to,
    metadataFile,
    output,
    progress: 'plain',
    secrets: plan.buildSecrets,
    ssh: plan.ssh
  });
  return part.node ? [`--context=${part.node.context}`, ...args] : args;
}

/** A build context as an argument that cannot be taken for a flag. */
export function contextArg(context: string): string {
  if (context.startsWith('-')) return `./${context}`;
  return context;
}

/**
 * A throwaway build on a builder (the Go cache moves in and out of its cache mounts); the nonce
 * keeps its RUN steps out of the layer cache.
 */
export function throwawayBuildArgs(builder: string, nonce: string, output: string, context: string, dockerfile?: string): string[] {
  const file = dockerfile ? [`--file=${dockerfile}`] : [];
  return ['buildx', 'build', `--builder=${builder}`, '--progress=plain', `--build-arg=NONCE=${nonce}`, output, ...file, context];
}

/** The throwaway build that asks a stage's image where Go keeps its caches (plan/derived-dockerfile.ts), into `dest`. */
export function goEnvQueryArgs(
  builder: string,
  dockerfile: string,
  dest: string,
  buildArgs: Record<string, string>,
  context: string
): string[] {
  const args = Object.entries(buildArgs).map(([k, v]) => `--build-arg=${k}=${v}`);
  return [
    'buildx',
    'build',
    `--builder=${builder}`,
    '--progress=plain',
    ...args,
    `--file=${dockerfile}`,
    `--output=type=local,dest=${dest}`,
    context
  ];
}
