// Where each platform of an image builds, pure: on the runner's builder, or on a build node
// (input builder-endpoints: a remote engine reached through a Docker context of the action's own,
// with a docker-container builder whose state stays on the node between runs).
import { createHash } from 'node:crypto';
import type { BuilderEndpoint, PlannedImage } from './types.js';

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

/** Which platforms of an image build where. Only non-empty parts; the runner's part first. */
export function splitPlatforms(platforms: string[], nodes: BuildNode[]): BuildPart[] {
  const parts: BuildPart[] = [{ platforms: platforms.filter((p) => !nodes.some((n) => n.platforms.includes(p))) }];
  for (const node of nodes) parts.push({ node, platforms: platforms.filter((p) => node.platforms.includes(p)) });
  return parts.filter((p) => p.platforms.length > 0);
}

/**
 * The Docker context of each endpoint, and the name of its builder: one name per endpoint, the
 * same in every run, so that the builder's state (its build cache), which post keeps on the node,
 * serves the next run there.
 */
export function nodeContexts(endpoints: BuilderEndpoint[]): BuildNode[] {
  return endpoints.map((e) => {
    const id = createHash('sha256').update(e.endpoint).digest('hex').slice(0, 12);
    return { context: `gdp-node-${id}`, builder: `gdp-node-builder-${id}`, endpoint: e.endpoint, platforms: e.platforms };
  });
}

/** The part of an image that builds a platform. */
export function partOf(parts: BuildPart[], platform: string): BuildPart {
  const part = parts.find((p) => p.platforms.includes(platform));
  if (!part) throw new Error(`no part of the build makes ${platform}`);
  return part;
}

/** The driver of the builder a part runs on: a node's is the docker-container builder made there. */
export function partDriver(part: BuildPart, runnerDriver: string): string {
  return part.node ? 'docker-container' : runnerDriver;
}

/** Where a part builds, for the log. */
export function partPlace(part: BuildPart): string {
  return part.node ? `on ${part.node.endpoint}` : 'on the runner';
}

/**
 * Whether an image's layers get their file times clamped to SOURCE_DATE_EPOCH, which makes two
 * builds of one commit push the same digests. The docker driver's exporter refuses it.
 */
export function rewritesTimestamps(img: PlannedImage, driver: string): boolean {
  return driver !== 'docker' && img.buildArgs.SOURCE_DATE_EPOCH !== undefined;
}
