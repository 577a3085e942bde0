// The buildx builder: use the current one when it can do what the run needs (multi-platform
// output and cache export), otherwise create a docker-container builder that post removes.
import * as core from '@actions/core';
import type { Runner } from './runner.js';

export interface BuilderInfo {
  name: string;
  driver: string;
}

export interface BuilderChoice {
  name: string;
  create: boolean;
  reason: string;
  /** The engine's image store holds multi-platform images (containerd image store). */
  containerdStore?: boolean;
}

export function parseInspect(text: string): BuilderInfo {
  const field = (k: string): string => new RegExp(`^${k}:\\s*(.+)$`, 'm').exec(text)?.[1]?.trim() ?? '';
  return { name: field('Name'), driver: field('Driver') };
}

/** Pure: which builder to use, given the current one and whether the engine has the containerd image store. */
export function chooseBuilder(
  mode: 'auto' | 'docker' | 'docker-container',
  current: BuilderInfo,
  containerdStore: boolean,
  newName: string
): BuilderChoice {
  if (mode === 'docker-container') {
    if (current.driver === 'docker-container')
      return { name: current.name, create: false, reason: `builder: docker-container and the current builder "${current.name}" is one` };
    return { name: newName, create: true, reason: 'builder: docker-container' };
  }
  if (mode === 'docker') {
    return { name: 'default', create: false, reason: 'builder: docker' };
  }
  if (current.driver && current.driver !== 'docker') {
    return {
      name: current.name,
      create: false,
      reason: `the current builder "${current.name}" (driver ${current.driver}) does multi-platform builds and cache export`
    };
  }
  if (current.driver === 'docker' && containerdStore) {
    return {
      name: current.name || 'default',
      create: false,
      reason: `the current builder "${current.name || 'default'}" uses the docker driver with the containerd image store, which does multi-platform builds and cache export`
    };
  }
  return {
    name: newName,
    create: true,
    reason:
      'the current builder uses the docker driver without the containerd image store, which cannot build multi-platform images or export cache'
  };
}

/** onCreate is told the name before the create command runs: a failed bootstrap still leaves the builder behind. */
export async function setupBuilder(
  mode: 'auto' | 'docker' | 'docker-container',
  runner: Runner,
  runId: string,
  onCreate: (name: string) => void = () => undefined
): Promise<BuilderChoice> {
  const inspect = await runner.docker(['buildx', 'inspect'], { silent: true, allowFailure: true });
  const info = await runner.docker(['info', '--format={{json .DriverStatus}}'], { silent: true, allowFailure: true });
  const containerdStore = info.stdout.includes('io.containerd.snapshotter');
  const choice: BuilderChoice = {
    ...chooseBuilder(mode, parseInspect(inspect.stdout), containerdStore, `go-docker-publish-${runId}`),
    containerdStore
  };
  if (choice.create) {
    onCreate(choice.name);
    await runner.docker([
      'buildx',
      'create',
      `--name=${choice.name}`,
      '--driver=docker-container',
      '--driver-opt=network=host',
      '--bootstrap'
    ]);
  }
  core.info(`Builder: ${choice.create ? 'created' : 'using'} "${choice.name}": ${choice.reason}`);
  return choice;
}
