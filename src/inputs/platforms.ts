// Platform lists (the platforms input, an image's platforms, build-platforms, an endpoint's), pure.
import { InputError } from './values.js';

export const DEFAULT_PLATFORMS = ['linux/amd64', 'linux/arm64'];

/** Platforms BuildKit can build for Linux, written as buildx expects them. */
const KNOWN_PLATFORMS = new Set([
  'linux/amd64',
  'linux/amd64/v2',
  'linux/amd64/v3',
  'linux/amd64/v4',
  'linux/arm64',
  'linux/arm64/v8',
  'linux/arm/v5',
  'linux/arm/v6',
  'linux/arm/v7',
  'linux/386',
  'linux/ppc64le',
  'linux/ppc64',
  'linux/s390x',
  'linux/riscv64',
  'linux/mips64le',
  'linux/mips64',
  'linux/loong64'
]);

/** Comma- or newline-separated platforms, each known, each once; `fallback` when none is given. */
export function parsePlatforms(input: string, raw: string, fallback: string[]): string[] {
  const list = raw
    .split(/[,\n]/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (list.length === 0) {
    if (fallback.length > 0) return [...fallback];
    throw new InputError(input, raw, 'at least one platform, e.g. "linux/amd64,linux/arm64"');
  }
  for (const p of list) {
    if (!KNOWN_PLATFORMS.has(p)) {
      throw new InputError(
        input,
        p,
        `a platform such as ${[...KNOWN_PLATFORMS].slice(0, 8).join(', ')} (known: ${[...KNOWN_PLATFORMS].join(' ')})`
      );
    }
  }
  return [...new Set(list)];
}

/** A platforms value in YAML: a list, or a comma-separated string. */
export function yamlPlatforms(where: string, p: unknown): string[] {
  const text = Array.isArray(p) ? p.map(String).join(',') : typeof p === 'string' ? p : undefined;
  if (text === undefined) throw new InputError(where, p, 'a list or a comma-separated string of platforms');
  return parsePlatforms(where, text, []);
}
