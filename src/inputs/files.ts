// The one input check that reads the workspace: each image's context is a directory and its
// Dockerfile an existing file inside that context, before anything runs.
import { existsSync, statSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import type { ImageInput } from '../plan/types.js';
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
