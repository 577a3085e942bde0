// Reads and validates every input of action.yml. Pure: takes a getter (core.getInput in the
// action, a map in tests) and returns typed Inputs, or throws an InputError naming the input, the
// bad value and the expected form. Nothing here runs a command or touches the network; each
// group of inputs has a file of its own.
import type { Inputs } from '../plan/types.js';
import { parseAttest } from './attest.js';
import { parseGoPrivate } from './go-private.js';
import { parseImages } from './images.js';
import { parseBuilderEndpoints, parseMode } from './modes.js';
import { DEFAULT_PLATFORMS, parsePlatforms } from './platforms.js';
import { parseRegistries } from './registries.js';
import { parseBuildSecrets } from './secrets.js';
import { parseSign } from './signing.js';
import { bool, type InputGetter, oneOf, parseKeyValueLines, tristate } from './values.js';

export { InputError, type InputGetter } from './values.js';

export function readInputs(get: InputGetter): Inputs {
  const platforms = parsePlatforms('platforms', get('platforms'), DEFAULT_PLATFORMS);
  const images = parseImages(get('images'));
  // Unset is ''; a value of only white space is passed on, and the tag rules reject it by name.
  const rawVersion = get('version');
  const version = rawVersion === '' ? undefined : rawVersion;
  const goPrivate = parseGoPrivate(get);
  const sign = parseSign(get);
  return {
    images,
    platforms,
    version,
    latest: tristate('latest', get('latest')),
    semverTags: bool('semver-tags', get('semver-tags'), false),
    registries: parseRegistries(get),
    push: tristate('push', get('push')),
    cache: oneOf('cache', get('cache'), ['gha', 'registry', 'none'] as const, 'gha'),
    qemu: tristate('qemu', get('qemu')),
    builder: oneOf('builder', get('builder'), ['auto', 'docker', 'docker-container'] as const, 'auto'),
    buildArgs: parseKeyValueLines('build-args', get('build-args')),
    smokePlatforms: oneOf('smoke-platforms', get('smoke-platforms'), ['native', 'all'] as const, 'native'),
    dryRun: bool('dry-run', get('dry-run'), false),
    goCache: oneOf('go-cache', get('go-cache'), ['auto', 'false'] as const, 'auto'),
    builderEndpoints: parseBuilderEndpoints(get('builder-endpoints')),
    ...parseMode(get),
    sign,
    attest: parseAttest(get, sign),
    provenance: oneOf('provenance', get('provenance'), ['min', 'max', 'false'] as const, 'min'),
    sbom: bool('sbom', get('sbom'), false),
    buildSecrets: parseBuildSecrets(get),
    ...(goPrivate ? { goPrivate } : {})
  };
}
