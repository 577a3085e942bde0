// Builder command lines, pure: the current builder, a docker-container builder the action creates
// (on the runner or in a build node's Docker context), its cache mounts, its removal.
import type { BuildNode } from '../parts.js';

export function builderInspectArgs(): string[] {
  return ['buildx', 'inspect'];
}

/** `docker buildx create` of a docker-container builder; on a node, in that node's Docker context. */
export function builderCreateArgs(name: string, context?: string): string[] {
  return [
    'buildx',
    'create',
    `--name=${name}`,
    '--driver=docker-container',
    // Registries on the runner's loopback (and a node's) are reachable from the builder.
    '--driver-opt=network=host',
    '--bootstrap',
    ...(context ? [context] : [])
  ];
}

/** keepState: a node's builder goes, its state volume (the build cache) stays on the node. */
export function builderRemoveArgs(name: string, keepState: boolean): string[] {
  return ['buildx', 'rm', '--force', ...(keepState ? ['--keep-state'] : []), name];
}

/** The builder's cache mounts and their sizes. */
export function cacheMountsArgs(builder: string): string[] {
  return ['buildx', 'du', `--builder=${builder}`, '--verbose', '--filter=type=exec.cachemount'];
}

export function contextCreateArgs(node: BuildNode): string[] {
  return ['context', 'create', node.context, `--docker=host=${node.endpoint}`];
}

/** The node's engine, through its context: version and architecture. */
export function contextVersionArgs(context: string): string[] {
  return [`--context=${context}`, 'version', '--format={{.Server.Version}} {{.Server.Arch}}'];
}
