// Remote build nodes (input builder-endpoints): each endpoint becomes a Docker context in the
// action's own DOCKER_CONFIG (gone with it in post) with a docker-container builder named after
// the endpoint on that engine (removed in post, its state volume, the build cache, kept on the
// node for the next run); its platforms are built there, natively (plan/parts.ts says which).
import * as core from '@actions/core';
import { builderCreateArgs, contextCreateArgs, contextVersionArgs } from '../plan/commands/builders.js';
import { nodeContexts, type BuildNode } from '../plan/parts.js';
import type { BuilderEndpoint } from '../plan/types.js';
import { lastLines, type Runner } from './runner.js';

/** onBuilder is told each node's builder before it is created: post removes it (keeping its state), also after a failed start. */
export async function setupNodes(
  endpoints: BuilderEndpoint[],
  runner: Runner,
  onBuilder: (name: string) => void = () => undefined
): Promise<BuildNode[]> {
  const nodes = nodeContexts(endpoints);
  for (const [i, node] of nodes.entries()) {
    await runner.docker(contextCreateArgs(node), { silent: true });
    const info = await runner.docker(contextVersionArgs(node.context), { silent: true, allowFailure: true });
    if (info.exitCode !== 0) {
      throw new Error(`builder-endpoints[${i}]: cannot reach the Docker engine at ${node.endpoint}: ${lastLines(info.stderr, 1)}`);
    }
    core.info(`Build node ${node.endpoint} (Docker ${info.stdout.trim()}): builds ${node.platforms.join(', ')}`);
    onBuilder(node.builder);
    await runner.docker(builderCreateArgs(node.builder, node.context), { silent: true });
  }
  return nodes;
}
