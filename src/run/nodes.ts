// Remote build nodes (input builder-endpoints): each endpoint becomes a Docker context in the
// action's own DOCKER_CONFIG (gone with it in post) with a docker-container builder named after
// the endpoint on that engine (removed in post, its state volume, the build cache, kept on the
// node for the next run); its platforms are built there, natively (plan/parts.ts says which).
// While another job on the same machine holds that builder (matrix jobs sharing an engine and a
// buildx config), this job makes one of its own on the node, removed with its state.
import * as core from '@actions/core';
import { builderCreateArgs, contextCreateArgs, contextVersionArgs } from '../plan/commands/builders.js';
import { nodeContexts, type BuildNode } from '../plan/parts.js';
import type { BuilderEndpoint } from '../plan/types.js';
import { CommandError, lastLines, type Runner } from './runner.js';

/**
 * onBuilder is told each node's builder before it is created: post removes it (keeping its state),
 * also after a failed start. `ownBuilder` hears of a builder made for this job alone (`instance`:
 * the job's part of its names) because another job holds the node's: post removes it whole.
 */
export async function setupNodes(
  endpoints: BuilderEndpoint[],
  runner: Runner,
  onBuilder: (name: string) => void = () => undefined,
  o: { instance?: string; ownBuilder?: (name: string) => void } = {}
): Promise<BuildNode[]> {
  const nodes = nodeContexts(endpoints);
  for (const [i, node] of nodes.entries()) {
    await runner.docker(contextCreateArgs(node), { silent: true });
    const info = await runner.docker(contextVersionArgs(node.context), { silent: true, allowFailure: true });
    if (info.exitCode !== 0) {
      throw new Error(`builder-endpoints[${i}]: cannot reach the Docker engine at ${node.endpoint}: ${lastLines(info.stderr, 1)}`);
    }
    core.info(`Build node ${node.endpoint} (Docker ${info.stdout.trim()}): builds ${node.platforms.join(', ')}`);
    const create = await runner.docker(builderCreateArgs(node.builder, node.context), { silent: true, allowFailure: true });
    if (create.exitCode === 0 || !/existing instance/i.test(create.stderr) || !o.instance) {
      // Ours, also when it failed to start: post removes it.
      onBuilder(node.builder);
      if (create.exitCode !== 0) throw new CommandError(builderCreateArgs(node.builder, node.context), create);
      continue;
    }
    const own = `${node.builder}-${o.instance}`;
    core.info(
      `Build node ${node.endpoint}: its builder ${node.builder} is in use by another job on this machine: this job builds in a builder of its own, ${own}, without the node's build cache`
    );
    o.ownBuilder?.(own);
    await runner.docker(builderCreateArgs(own, node.context), { silent: true });
    node.builder = own;
  }
  return nodes;
}
