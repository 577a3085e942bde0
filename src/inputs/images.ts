// The images input, pure: a YAML list of maps (name or names, dockerfile, context, target,
// platforms, build-args, labels, smoke, cache-scope), each validated, names unique.
import { posix } from 'node:path';
import type { ImageInput } from '../plan/types.js';
import { yamlPlatforms } from './platforms.js';
import { parseSmoke } from './smoke.js';
import { InputError, isMap, isNonEmptyString, optString, stringMap, yamlList } from './values.js';

const IMAGE_KEYS = new Set([
  'name',
  'names',
  'dockerfile',
  'context',
  'target',
  'platforms',
  'build-args',
  'labels',
  'smoke',
  'cache-scope'
]);

const IMAGES_SHAPE =
  'a YAML list of images, each a map with "name" (or "names", a list) and optional "dockerfile", ' +
  '"context", "target", "platforms", "build-args", "labels", "smoke", "cache-scope"; ' +
  'e.g. "- name: ghcr.io/org/app\\n  dockerfile: Dockerfile"';

export function parseImages(raw: string): ImageInput[] {
  if (raw.trim() === '') throw new InputError('images', raw, IMAGES_SHAPE);
  const list = yamlList('images', raw, IMAGES_SHAPE);
  if (list.length === 0) throw new InputError('images', raw, IMAGES_SHAPE);
  const images = list.map((item, i) => parseImage(item, i));
  const seen = new Map<string, number>();
  images.forEach((img, i) => {
    for (const n of img.names) {
      const key = n.toLowerCase();
      const first = seen.get(key);
      if (first !== undefined && first !== i) {
        throw new InputError(`images[${i}].name`, n, `a name not used by another image (images[${first}] has it)`);
      }
      seen.set(key, i);
    }
  });
  return images;
}

function parseImage(item: unknown, i: number): ImageInput {
  const where = `images[${i}]`;
  if (!isMap(item)) throw new InputError(where, item, 'a map with at least "name"');
  for (const k of Object.keys(item)) {
    if (!IMAGE_KEYS.has(k)) throw new InputError(`${where}.${k}`, k, `one of the keys ${[...IMAGE_KEYS].join(', ')}`);
  }
  let names: string[];
  if (item.names !== undefined) {
    if (item.name !== undefined) throw new InputError(`${where}.names`, item.names, 'either "name" or "names", not both');
    if (!Array.isArray(item.names) || item.names.length === 0 || !item.names.every(isNonEmptyString)) {
      throw new InputError(`${where}.names`, item.names, 'a non-empty list of repository names');
    }
    names = item.names.map((n) => n.trim());
  } else if (isNonEmptyString(item.name)) {
    names = [item.name.trim()];
  } else {
    throw new InputError(`${where}.name`, item.name, 'a repository name such as "ghcr.io/org/app" or "org/app"');
  }
  const context = optString(`${where}.context`, item.context) ?? '.';
  const img: ImageInput = {
    names,
    // Like docker/build-push-action: the Dockerfile defaults to <context>/Dockerfile.
    dockerfile: optString(`${where}.dockerfile`, item.dockerfile) ?? posix.join(context, 'Dockerfile'),
    context,
    buildArgs: stringMap(`${where}.build-args`, item['build-args']),
    labels: stringMap(`${where}.labels`, item.labels),
    smoke: parseSmoke(`${where}.smoke`, item.smoke)
  };
  const target = optString(`${where}.target`, item.target);
  if (target !== undefined) img.target = target;
  if (item.platforms !== undefined) img.platforms = yamlPlatforms(`${where}.platforms`, item.platforms);
  const scope = optString(`${where}.cache-scope`, item['cache-scope']);
  if (scope !== undefined) img.cacheScope = scope;
  return img;
}
