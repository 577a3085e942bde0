// The docker command lines, built by pure functions from the plan. Values always go in
// `--flag=value` form, so nothing from an event or input can be read by docker as a flag.
import type { PlannedImage, SmokeSpec } from './types.js';

export interface BuildOptions {
  builder: string;
  platforms: string[];
  cacheFrom: string[];
  cacheTo: string[];
  metadataFile: string;
  /**
   * load: into the engine's image store (smoke-tested, then pushed from there); oci: an OCI layout
   * directory (a remote node's part of a multi-node build, merged and loaded afterwards).
   */
  output: 'load' | 'push' | 'none' | { oci: string };
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
  for (const r of img.refs) a.push(`--tag=${r}`);
  for (const [k, v] of Object.entries(img.labels)) a.push(`--label=${k}=${v}`);
  for (const [k, v] of Object.entries(img.buildArgs)) a.push(`--build-arg=${k}=${v}`);
  for (const c of o.cacheFrom) a.push(`--cache-from=${c}`);
  for (const c of o.cacheTo) a.push(`--cache-to=${c}`);
  a.push(`--metadata-file=${o.metadataFile}`);
  if (o.output === 'load') a.push('--load');
  if (o.output === 'push') a.push('--push');
  if (typeof o.output === 'object') a.push(`--output=type=oci,dest=${o.output.oci},tar=false`, '--provenance=false');
  a.push(contextArg(img.context));
  return a;
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
  const a = ['run', '--rm', `--name=${containerName}`, `--platform=${platform}`, '--pull=never'];
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
