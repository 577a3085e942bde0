// The input checks that read the workspace and the step's environment, before anything runs: each
// image's context is a directory and its Dockerfile a file inside it; each build secret's variable
// or file is there.
import { existsSync, statSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import type { BuildSecretsInput, ImageInput } from '../plan/types.js';
import { InputError } from './values.js';

/** Paths are relative to the workspace (the job's checkout). */
export function checkImageFiles(images: ImageInput[], workspace: string): void {
  images.forEach((img, i) => {
    const context = resolve(workspace, img.context);
    if (!existsSync(context) || !statSync(context).isDirectory()) {
      throw new InputError(`images[${i}].context`, img.context, `a directory in the workspace (${workspace})`);
    }
    const dockerfile = resolve(workspace, img.dockerfile);
    const inside = relative(context, dockerfile);
    if (inside === '' || inside.startsWith('..') || isAbsolute(inside)) {
      throw new InputError(`images[${i}].dockerfile`, img.dockerfile, `a Dockerfile inside the build context "${img.context}"`);
    }
    if (!existsSync(dockerfile) || !statSync(dockerfile).isFile()) {
      throw new InputError(`images[${i}].dockerfile`, img.dockerfile, `an existing file (looked for ${dockerfile})`);
    }
  });
}

/**
 * Where each build secret comes from, checked before anything runs: a secret-envs variable must be
 * set in the step's environment, a secret-files path must be a file (relative to the workspace;
 * returned absolute, as buildx needs it whatever its working directory).
 */
export function resolveSecretSources(s: BuildSecretsInput, env: NodeJS.ProcessEnv, workspace: string): BuildSecretsInput {
  for (const e of s.envs) {
    if (env[e.env] === undefined) {
      throw new InputError(
        'secret-envs',
        `${e.id}=${e.env}`,
        `a variable of the step's environment (${e.env} is not set: add it under "env:" of the step)`
      );
    }
  }
  const files = s.files.map((f) => {
    const path = resolve(workspace, f.path);
    if (!existsSync(path) || !statSync(path).isFile()) {
      throw new InputError('secret-files', `${f.id}=${f.path}`, `an existing file (looked for ${path})`);
    }
    return { id: f.id, path };
  });
  return { ...s, files };
}
