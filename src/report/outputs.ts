// The step's outputs: version, tags, images (JSON), pushed, pushed-tags.
import * as core from '@actions/core';
import type { Plan } from '../plan/types.js';
import type { ImageOutcome } from './outcomes.js';

/** An image counts as pushed when every one of its tags was pushed. */
export function imagePushed(img: ImageOutcome, pushedRefs: readonly string[]): boolean {
  return img.tags.length > 0 && img.tags.every((t) => pushedRefs.includes(t));
}

/** The `images` output, with `pushed` per image. */
function imagesOutput(images: ImageOutcome[], pushedRefs: readonly string[]): string {
  return JSON.stringify(
    images.map((img) => ({
      name: img.name,
      tags: img.tags,
      digest: img.digest,
      platforms: img.platforms,
      smoke: img.smoke,
      tested: img.tested ?? {},
      size: img.size,
      pushed: imagePushed(img, pushedRefs),
      ...(img.signature ? { signature: img.signature } : {}),
      ...(img.attestations ? { attestations: img.attestations } : {})
    }))
  );
}

/**
 * `pushed` is true only when the run pushed every image; `pushed-tags` lists exactly the refs that
 * were pushed, also when the run failed half-way (a registry that went away).
 */
export function setOutputs(plan: Plan, images: ImageOutcome[], pushed: boolean, pushedRefs: readonly string[] = []): void {
  core.setOutput('version', plan.release.version ?? '');
  core.setOutput('tags', images.flatMap((i) => i.tags).join('\n'));
  core.setOutput('images', imagesOutput(images, pushedRefs));
  core.setOutput('pushed', pushed ? 'true' : 'false');
  core.setOutput('pushed-tags', pushedRefs.join('\n'));
}
