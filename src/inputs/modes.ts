// Where the run builds, pure: mode (publish | platform | merge) with build-platforms, and
// builder-endpoints (remote engines that build some platforms natively, mode: publish only).
import type { BuilderEndpoint, Inputs } from '../plan/types.js';
import { parsePlatforms, yamlPlatforms } from './platforms.js';
import { InputError, type InputGetter, isMap, oneOf, optString, yamlList } from './values.js';

/** mode, and build-platforms (only with mode: platform); builder-endpoints only with mode: publish. */
export function parseMode(get: InputGetter): Pick<Inputs, 'mode' | 'buildPlatforms'> {
  const mode = oneOf('mode', get('mode'), ['publish', 'platform', 'merge'] as const, 'publish');
  const raw = get('build-platforms');
  if (raw.trim() !== '' && mode !== 'platform') {
    throw new InputError('build-platforms', raw, `nothing unless mode is "platform" (mode is "${mode}")`);
  }
  if (mode !== 'publish' && get('builder-endpoints').trim() !== '') {
    throw new InputError(
      'builder-endpoints',
      get('builder-endpoints'),
      `nothing with mode "${mode}" (each runner of the matrix builds its own platforms; mode: publish uses build nodes)`
    );
  }
  if (raw.trim() === '') return { mode };
  return { mode, buildPlatforms: parsePlatforms('build-platforms', raw, []) };
}

const ENDPOINTS_SHAPE = 'a YAML list of {endpoint, platforms}, e.g. "- endpoint: ssh://builder@arm-host\\n  platforms: linux/arm64"';

/** builder-endpoints: remote engines that build the listed platforms natively. */
export function parseBuilderEndpoints(raw: string): BuilderEndpoint[] {
  if (raw.trim() === '') return [];
  const list = yamlList('builder-endpoints', raw, ENDPOINTS_SHAPE);
  const owner = new Map<string, number>();
  return list.map((item, i) => {
    const where = `builder-endpoints[${i}]`;
    if (!isMap(item)) throw new InputError(where, item, ENDPOINTS_SHAPE);
    for (const k of Object.keys(item))
      if (k !== 'endpoint' && k !== 'platforms') throw new InputError(`${where}.${k}`, k, 'the keys endpoint, platforms');
    const endpoint = optString(`${where}.endpoint`, item.endpoint);
    // The endpoint becomes an argument of `docker context create`: never something that reads as a flag.
    if (endpoint === undefined || !/^(ssh|tcp):\/\/[A-Za-z0-9._~@:[\]-]+(\/[A-Za-z0-9._~/-]*)?$/.test(endpoint)) {
      throw new InputError(`${where}.endpoint`, item.endpoint, 'ssh://user@host[:port] or tcp://host:port');
    }
    const platforms = yamlPlatforms(`${where}.platforms`, item.platforms ?? '');
    for (const pl of platforms) {
      const first = owner.get(pl);
      if (first !== undefined)
        throw new InputError(`${where}.platforms`, pl, `a platform no other endpoint builds (builder-endpoints[${first}] has it)`);
      owner.set(pl, i);
    }
    return { endpoint, platforms };
  });
}
