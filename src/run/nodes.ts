// Remote build nodes (input builder-endpoints): each endpoint becomes a Docker context in the
// action's own DOCKER_CONFIG (gone with it in post), and its platforms are built there, natively,
// by that engine's BuildKit, which keeps its cache between runs. The other platforms build on the
// runner; the results are merged into one multi-platform image (oci-layout.ts).
import * as core from '@actions/core';
import type { BuilderEndpoint } from '../plan/types.js';
import type { Runner } from './runner.js';

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

export async function setupNodes(endpoints: BuilderEndpoint[], runner: Runner, runId: string): Promise<BuildNode[]> {
  const nodes: BuildNode[] = [];
  for (const [i, e] of endpoints.entries()) {
    const context = `gdp-node-${runId}-${i}`;
    await runner.docker(['context', 'create', context, `--docker=host=${e.endpoint}`], { silent: true });
    const info = await runner.docker([`--context=${context}`, 'version', '--format={{.Server.Version}} {{.Server.Arch}}'], {
      silent: true,
      allowFailure: true
    });
    if (info.exitCode !== 0) {
      throw new Error(
        `builder-endpoints[${i}]: cannot reach the Docker engine at ${e.endpoint}: ${info.stderr.trim().split('\n').pop() ?? ''}`
      );
    }
    core.info(`Build node ${e.endpoint} (Docker ${info.stdout.trim()}): builds ${e.platforms.join(', ')}`);
    nodes.push({ context, endpoint: e.endpoint, platforms: e.platforms });
  }
  return nodes;
}
