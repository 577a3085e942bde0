// The buildx builder: use the current one when it can do what the run needs (build every
// platform, load one, push by digest), otherwise create a docker-container builder that post removes.
import * as core from '@actions/core';
import { explainRefusal } from '../plan/auth-failure.js';
import { builderCreateArgs, builderInspectArgs } from '../plan/commands/builders.js';
import type { Runner } from './runner.js';

export interface BuilderInfo {
  name: string;
  driver: string;
}

export interface BuilderChoice {
  name: string;
  create: boolean;
  reason: string;
  /** The builder's driver: `docker` cannot push by digest nor rewrite timestamps. */
  driver: string;
}

export function parseInspect(text: string): BuilderInfo {
  const field = (k: string): string => new RegExp(`^${k}:\\s*(.+)$`, 'm').exec(text)?.[1]?.trim() ?? '';
  return { name: field('Name'), driver: field('Driver') };
}

/**
 * Pure: which builder to use. Every run builds into the builder, loads one platform at a time for
 * the smoke tests and pushes by digest, which the `docker` driver cannot do (on either image
 * store): `auto` takes the current builder unless it uses that driver, and otherwise creates a
 * `docker-container` builder, as setup-buildx does.
 */
export function chooseBuilder(mode: 'auto' | 'docker' | 'docker-container', current: BuilderInfo, newName: string): BuilderChoice {
  const created = { name: newName, create: true, driver: 'docker-container' };
  if (mode === 'docker-container') {
    if (current.driver === 'docker-container')
      return { ...current, create: false, reason: `builder: docker-container and the current builder "${current.name}" is one` };
    return { ...created, reason: 'builder: docker-container' };
  }
  if (mode === 'docker') return { name: 'default', create: false, driver: 'docker', reason: 'builder: docker' };
  if (current.driver && current.driver !== 'docker') {
    return {
      ...current,
      create: false,
      reason: `the current builder "${current.name}" (driver ${current.driver}) builds every platform and pushes by digest`
    };
  }
  return {
    ...created,
    reason: 'the current builder uses the docker driver, which cannot push by digest or export the gha cache on every engine'
  };
}

/** onCreate is told the name before the create command runs: a failed bootstrap still leaves the builder behind. */
export async function setupBuilder(
  mode: 'auto' | 'docker' | 'docker-container',
  runner: Runner,
  runId: string,
  onCreate: (name: string) => void = () => undefined
): Promise<BuilderChoice> {
  const inspect = await runner.docker(builderInspectArgs(), { silent: true, allowFailure: true });
  const choice = chooseBuilder(mode, parseInspect(inspect.stdout), `go-docker-publish-${runId}`);
  if (choice.create) {
    onCreate(choice.name);
    try {
      await runner.docker(builderCreateArgs(choice.name));
    } catch (e) {
      // Its start pulls the BuildKit image: a registry may refuse that pull as it refuses a push.
      throw explainRefusal(e, `the pull of the BuildKit image for the builder ${choice.name}`);
    }
  }
  core.info(`Builder: ${choice.create ? 'created' : 'using'} "${choice.name}": ${choice.reason}`);
  return choice;
}
