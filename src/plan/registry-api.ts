// The registry's HTTP API (OCI distribution) for the one read buildx has no command for: a
// repository's tag list (GET /v2/<name>/tags/list, paginated by Link headers). Pure: where a
// repository's API is, the auth challenge a registry answers 401 with, the next page, and which
// credentials the Docker config holds for a registry (as the docker CLI looks them up: an auths
// entry, else the credential helper named for it, else the credsStore).
import { credentialKeys, type CredentialConfig } from './docker-config.js';
import { registryOf } from './reference.js';

export interface RegistryEndpoint {
  /** The registry as image references name it (the Docker config's key). */
  registry: string;
  /** Scheme and host of its API. */
  base: string;
  /** The repository's name in the API. */
  name: string;
}

/** Docker treats loopback registries as insecure (plain HTTP), as the engine and buildx do here. */
const LOOPBACK = /^(?:localhost|127(?:\.\d{1,3}){3}|\[::1\])(?::\d+)?$/;

export function registryEndpoint(repository: string): RegistryEndpoint {
  const registry = registryOf(repository);
  const path = registry === 'docker.io' && !repository.startsWith('docker.io/') ? repository : repository.slice(registry.length + 1);
  if (registry === 'docker.io') {
    return { registry, base: 'https://registry-1.docker.io', name: path.includes('/') ? path : `library/${path}` };
  }
  return { registry, base: `${LOOPBACK.test(registry) ? 'http' : 'https'}://${registry}`, name: path };
}

export interface Challenge {
  scheme: 'basic' | 'bearer';
  params: Record<string, string>;
}

/** A WWW-Authenticate header: `Basic realm="…"` or `Bearer realm="…",service="…",scope="…"`. */
export function parseChallenge(header: string | null): Challenge | undefined {
  const m = /^\s*(Basic|Bearer)\b(.*)$/i.exec(header ?? '');
  if (!m?.[1]) return undefined;
  const params: Record<string, string> = {};
  for (const p of (m[2] ?? '').matchAll(/([A-Za-z_]+)="([^"]*)"/g)) if (p[1]) params[p[1].toLowerCase()] = p[2] ?? '';
  return { scheme: m[1].toLowerCase() as Challenge['scheme'], params };
}

/** The URL of the next page of a paginated answer (`Link: </v2/…?last=…&n=…>; rel="next"`), against `base`. */
export function nextPage(link: string | null, base: string): string | undefined {
  const m = /<([^>]+)>\s*;\s*rel="?next"?/.exec(link ?? '');
  return m?.[1] ? new URL(m[1], base).toString() : undefined;
}

export type CredentialSource =
  | { kind: 'login'; username: string; secret: string }
  | { kind: 'identity-token'; token: string }
  | { kind: 'helper'; helper: string; server: string }
  | { kind: 'none' };

/** Where the Docker config keeps the credentials of a registry. */
export function credentialSource(config: CredentialConfig, registry: string): CredentialSource {
  const keys = credentialKeys(registry);
  for (const key of keys) {
    const entry = config.auths?.[key] as { auth?: unknown; identitytoken?: unknown } | undefined;
    if (typeof entry?.identitytoken === 'string' && entry.identitytoken !== '')
      return { kind: 'identity-token', token: entry.identitytoken };
    if (typeof entry?.auth === 'string' && entry.auth !== '') {
      const plain = Buffer.from(entry.auth, 'base64').toString('utf8');
      const at = plain.indexOf(':');
      if (at > 0) return { kind: 'login', username: plain.slice(0, at), secret: plain.slice(at + 1) };
    }
  }
  for (const key of keys) {
    const helper = config.credHelpers?.[key];
    if (helper === '') return { kind: 'none' };
    if (helper) return { kind: 'helper', helper, server: key };
  }
  return config.credsStore ? { kind: 'helper', helper: config.credsStore, server: keys[0] ?? registry } : { kind: 'none' };
}
