// Remote build nodes (input builder-endpoints): each endpoint becomes a Docker context in the
// action's own DOCKER_CONFIG (gone with it in post), and its platforms are built there, natively,
// by that engine's BuildKit, which keeps its cache between runs. The other platforms build on the
// runner; the results are merged into one multi-platform image (oci-layout.ts).
import * as core from '@actions/core';
import type { BuilderEndpoint } from '../plan/types.js';
import { lastLines, type Runner } from './runner.js';

export interface BuildNode {
  context: string;
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

/** Pure: the Docker context of each endpoint (a dry run prints them with a placeholder run id). */
export function nodeContexts(endpoints: BuilderEndpoint[], runId: string): BuildNode[] {
  return endpoints.map((e, i) => ({ context: `gdp-node-${runId}-${i}`, endpoint: e.endpoint, platforms: e.platforms }));
}

export function contextCreateArgs(node: BuildNode): string[] {
  return ['context', 'create', node.context, `--docker=host=${node.endpoint}`];
}

export async function setupNodes(endpoints: BuilderEndpoint[], runner: Runner, runId: string): Promise<BuildNode[]> {
  const nodes = nodeContexts(endpoints, runId);
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
  }
  return nodes;
}
