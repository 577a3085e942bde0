// Docker references, pure.
// - A tag is [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}. sanitizeTag makes one from any text: characters
//   outside [A-Za-z0-9_.-] (semver "+", "/", quotes, "$", spaces, ...) become "-"; a leading "." or
//   "-" becomes "_" (so a tag can never be read as a flag); longer than 128 is cut.
// - A repository follows the distribution reference grammar: an optional domain (a first
//   component with "." or ":", or "localhost") then path components
//   [a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)* joined by "/". Uppercase in the path is lowercased with
//   a notice (ghcr.io/${{ github.repository }} often has it); the domain keeps its case. Anything
//   else invalid (empty, a ":tag" or "@digest", spaces, a leading "-", "//", other characters, over
//   255 characters) is an error naming the value and the expected form.

export const TAG_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
export const TAG_FORM = '[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}';

export function sanitizeTag(raw: string): string {
  if (raw.trim() === '') return '';
  return raw
    .replace(/[^A-Za-z0-9_.-]/g, '-')
    .replace(/^[.-]/, '_')
    .slice(0, 128);
}

export function isValidTag(t: string): boolean {
  return TAG_PATTERN.test(t);
}

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
// host[:port]; the host a DNS name (any case) or a bracketed IPv6 address, as in distribution/reference.
const DOMAIN =
  /^(?:(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:.]+\])(?::[0-9]+)?$/;
const REPOSITORY_FORM =
  'a repository like "org/app", "docker.io/org/app" or "ghcr.io/org/app": an optional registry host, then lowercase path components of letters, digits and single ".", "_", "__" or "-" separators, no tag or digest';

export function normalizeRepository(name: string): { repository: string; notice?: string } {
  const bad = (why: string): Error =>
    new Error(`Image name ${JSON.stringify(name)} is not a valid repository (${why}). Expected ${REPOSITORY_FORM}.`);
  if (name.trim() === '') throw bad('empty');
  if (name.includes('@')) throw bad('a digest is not allowed here');
  const parts = name.split('/');
  let domain: string | undefined;
  const first = parts[0] ?? '';
  if (parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost')) {
    domain = parts.shift();
    if (!domain || !DOMAIN.test(domain)) throw bad(`registry host "${domain ?? ''}"`);
  }
  const path = parts.map((p) => p.toLowerCase());
  for (const p of path) {
    if (p.includes(':')) throw bad('a tag is not allowed here: tags come from the version');
    if (!PATH_COMPONENT.test(p)) throw bad(p === '' ? 'empty path component' : `path component "${p}"`);
  }
  const repository = [domain, ...path].filter((x) => x !== undefined).join('/');
  if (repository.length > 255) throw bad('longer than 255 characters');
  const original = [domain, ...parts].filter((x) => x !== undefined).join('/');
  return repository === original ? { repository } : { repository, notice: `image name "${name}" lowercased to "${repository}"` };
}

/** The registry host of a repository (as normalizeRepository leaves it): its domain, else Docker Hub. */
export function registryOf(repository: string): string {
  const first = repository.split('/')[0] ?? '';
  return repository.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost') ? first : 'docker.io';
}
