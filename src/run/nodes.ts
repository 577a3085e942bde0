// Remote build nodes (input builder-endpoints): each endpoint becomes a Docker context in the
// action's own DOCKER_CONFIG (gone with it in post) with a docker-container builder named after
// the endpoint on that engine (removed in post, its state volume, the build cache, kept on the node for
// the next run), and its platforms are built there, natively. Each part
// is loaded for its smoke tests and pushed by digest like the runner's; the tags name one index
// of every part's images (push.ts).
import { createHash } from 'node:crypto';
import * as core from '@actions/core';
import type { BuilderEndpoint } from '../plan/types.js';
import { builderCreateArgs } from './builder.js';
import { lastLines, type Runner } from './runner.js';

export interface BuildNode {
  context: string;
  /** Its docker-container builder (buildx refuses a builder named like a context). */
  builder: string;
  endpoint: string;
  platforms: string[];
}

/** One part of an image's build: on a node, or (node undefined) on the runner's builder. */
export interface BuildPart {
  node?: BuildNode;
  platforms: string[];
}

/** Pure: which platforms of an image build where. Only non-empty parts; the runner's part first. */
export function splitPlatforms(platforms: string[], nodes: BuildNode[]): BuildPart[] {
  const parts: BuildPart[] = [{ platforms: platforms.filter((p) => !nodes.some((n) => n.platforms.includes(p))) }];
  for (const node of nodes) parts.push({ node, platforms: platforms.filter((p) => node.platforms.includes(p)) });
  return parts.filter((p) => p.platforms.length > 0);
}

/**
 * Pure: the Docker context of each endpoint, and the name of its builder: one name per endpoint,
 * the same in every run, so that the builder's state (its build cache), which post keeps on the
 * node, serves the next run there.
 */
export function nodeContexts(endpoints: BuilderEndpoint[]): BuildNode[] {
  return endpoints.map((e) => {
    const id = createHash('sha256').update(e.endpoint).digest('hex').slice(0, 12);
    return { context: `gdp-node-${id}`, builder: `gdp-node-builder-${id}`, endpoint: e.endpoint, platforms: e.platforms };
  });
}

export function contextCreateArgs(node: BuildNode): string[] {
  return ['context', 'create', node.context, `--docker=host=${node.endpoint}`];
}

/** The commands that make a node usable: its context, then its builder there. */
export function nodeSetupArgs(node: BuildNode): string[][] {
  return [contextCreateArgs(node), builderCreateArgs(node.builder, node.context)];
}

/** onBuilder is told each node's builder before it is created: post removes it (keeping its state), also after a failed start. */
export async function setupNodes(
  endpoints: BuilderEndpoint[],
  runner: Runner,
  onBuilder: (name: string) => void = () => undefined
): Promise<BuildNode[]> {
  const nodes = nodeContexts(endpoints);
  for (const [i, node] of nodes.entries()) {
    const { context } = node;
    await runner.docker(contextCreateArgs(node), { silent: true });
    const info = await runner.docker([`--context=${context}`, 'version', '--format={{.Server.Version}} {{.Server.Arch}}'], {
      silent: true,
      allowFailure: true
    });
    if (info.exitCode !== 0) {
      throw new Error(`builder-endpoints[${i}]: cannot reach the Docker engine at ${node.endpoint}: ${lastLines(info.stderr, 1)}`);
    }
    core.info(`Build node ${node.endpoint} (Docker ${info.stdout.trim()}): builds ${node.platforms.join(', ')}`);
    onBuilder(node.builder);
    await runner.docker(builderCreateArgs(node.builder, context), { silent: true });
  }
  return nodes;
}
