// A repository's tags, read over the registry's HTTP API (buildx has no command that lists tags),
// with the credentials of the action's Docker config: an auths entry (the action's own logins and
// the workflow's), an identity token, or a credential helper (run through the Runner, as the docker
// CLI runs it). Registries that answer 401 with a Bearer challenge give a pull token first.
// Transient answers (429, 5xx, no connection) are retried as every registry read is.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CredentialConfig } from '../plan/docker-config.js';
import { credentialSource, nextPage, parseChallenge, registryEndpoint, type CredentialSource } from '../plan/registry-api.js';
import { DEFAULT_RETRY, withRetry, type RetryOptions } from './retry.js';
import type { Runner } from './runner.js';

/** Lists a repository's tags (tests pass a fake). */
export interface TagLister {
  tags(repository: string): Promise<string[]>;
}

const PAGES = 50;

async function credentials(source: CredentialSource, runner: Runner): Promise<{ username: string; secret: string } | undefined> {
  if (source.kind === 'login') return { username: source.username, secret: source.secret };
  if (source.kind !== 'helper') return undefined;
  const r = await runner.credentialHelper(source.helper, source.server);
  if (r.exitCode !== 0) return undefined; // "credentials not found": read anonymously
  const c = JSON.parse(r.stdout) as { Username?: string; Secret?: string };
  return c.Secret ? { username: c.Username ?? '', secret: c.Secret } : undefined;
}

const basic = (c: { username: string; secret: string }): string => `Basic ${Buffer.from(`${c.username}:${c.secret}`).toString('base64')}`;

/** The Authorization header a 401's challenge asks for, or undefined when there is nothing to offer. */
async function authorize(header: string | null, name: string, source: CredentialSource, runner: Runner): Promise<string | undefined> {
  const challenge = parseChallenge(header);
  if (!challenge) return undefined;
  const login = await credentials(source, runner);
  if (challenge.scheme === 'basic') return login ? basic(login) : undefined;
  const realm = challenge.params.realm;
  if (!realm) return undefined;
  const url = new URL(realm);
  if (challenge.params.service) url.searchParams.set('service', challenge.params.service);
  url.searchParams.set('scope', `repository:${name}:pull`);
  let r: Response;
  if (source.kind === 'identity-token') {
    const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: source.token, client_id: 'go-docker-publish' });
    if (challenge.params.service) form.set('service', challenge.params.service);
    form.set('scope', `repository:${name}:pull`);
    r = await fetch(realm, { method: 'POST', body: form });
  } else {
    r = await fetch(url, login ? { headers: { Authorization: basic(login) } } : {});
  }
  if (!r.ok) throw new Error(`the token service ${url.origin} answered ${r.status} ${r.statusText}`);
  const t = (await r.json()) as { token?: string; access_token?: string };
  const token = t.token ?? t.access_token;
  return token ? `Bearer ${token}` : undefined;
}

/** The tag lister of a real run: the registry API with the credentials of the Docker config in `dockerConfigDir`. */
export function registryTagLister(dockerConfigDir: string, runner: Runner, retry: RetryOptions = DEFAULT_RETRY): TagLister {
  const config = (): CredentialConfig => {
    try {
      return JSON.parse(readFileSync(join(dockerConfigDir, 'config.json'), 'utf8')) as CredentialConfig;
    } catch {
      return {};
    }
  };
  return {
    tags: (repository) =>
      withRetry(
        `Listing the tags of ${repository}`,
        async () => {
          const api = registryEndpoint(repository);
          const source = credentialSource(config(), api.registry);
          const tags: string[] = [];
          let url: string | undefined = `${api.base}/v2/${api.name}/tags/list?n=1000`;
          let auth: string | undefined;
          for (let page = 0; url && page < PAGES; page++) {
            let r = await fetch(url, auth ? { headers: { Authorization: auth } } : {});
            if (r.status === 401) {
              auth = await authorize(r.headers.get('www-authenticate'), api.name, source, runner);
              if (auth) r = await fetch(url, { headers: { Authorization: auth } });
            }
            if (r.status === 404) return tags; // no such repository yet: no tags
            if (!r.ok) throw new Error(`${api.base} answered ${r.status} ${r.statusText} for the tags of ${api.name}`);
            tags.push(...(((await r.json()) as { tags?: string[] | null }).tags ?? []));
            url = nextPage(r.headers.get('link'), api.base);
          }
          return tags;
        },
        retry
      )
  };
}
