// The docker command lines, built by pure functions from the plan. Values always go in
// `--flag=value` form, so nothing from an event or input can be read by docker as a flag.
import type { PlannedImage, SmokeSpec } from './types.js';

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
  | { type: 'cacheonly' }
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
}

export function buildxBuildArgs(img: PlannedImage, o: BuildOptions): string[] {
  const a = [
    'buildx',
    'build',
    ...(o.progress ? [`--progress=${o.progress}`] : []),
    `--builder=${o.builder}`,
    `--platform=${o.platforms.join(',')}`,
    `--file=${img.dockerfile}`
  ];
  if (img.target) a.push(`--target=${img.target}`);
  for (const [k, v] of Object.entries(img.labels)) a.push(`--label=${k}=${v}`);
  for (const [k, v] of Object.entries(img.buildArgs)) a.push(`--build-arg=${k}=${v}`);
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

/** Tags an image pushed by digest: a copy of its index (one source), or one index of several parts' images. */
/**
 * One tag, made from what was pushed by digest: an index of every platform of every source, with
 * `annotations` on the index itself (where GHCR and Docker Hub read a multi-arch image's
 * description and source).
 */
export function tagArgs(ref: string, sources: string[], annotations: Record<string, string> = {}, dryRun = false): string[] {
  const a = ['buildx', 'imagetools', 'create', ...(dryRun ? ['--dry-run'] : []), `--tag=${ref}`];
  for (const [k, v] of Object.entries(annotations)) a.push(`--annotation=index:${k}=${v}`);
  return [...a, ...sources];
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

export function smokeRunArgs(ref: string, platform: string, smoke: Extract<SmokeSpec, { enabled: true }>, containerName: string): string[] {
  // Detached, so a server can be watched while it runs; smoke.ts removes the container at the end.
  const a = ['run', '--detach', `--name=${containerName}`, `--platform=${platform}`, '--pull=never'];
  // A random port on loopback only: nothing outside the runner reaches the image under test.
  if (smoke.wait.kind === 'http') a.push(`--publish=127.0.0.1::${smoke.wait.port}`);
  for (const [k, v] of Object.entries(smoke.env)) a.push(`--env=${k}=${v}`);
  if (smoke.entrypoint !== undefined) a.push(`--entrypoint=${smoke.entrypoint}`);
  a.push(ref, ...smoke.args);
  return a;
}

export function loginArgs(registry: string, username: string): string[] {
  return ['login', `--username=${username}`, '--password-stdin', registry];
}

/** A build context as an argument that cannot be taken for a flag. */
export function contextArg(context: string): string {
  if (context.startsWith('-')) return `./${context}`;
  return context;
}
