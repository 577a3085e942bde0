// Private Go modules, pure: go-private (module path patterns, as GOPRIVATE takes them),
// go-private-token and go-private-username (the credentials of the module host or proxy), and
// go-private-proxy (an https GOPROXY that serves the private modules, e.g. a company's Athens or
// Artifactory). The token is never shown.
import type { GoPrivateInput } from '../plan/types.js';
import { InputError, type InputGetter } from './values.js';

/** A GOPRIVATE pattern: a module path prefix, globs allowed (`github.com/acme/*`, `*.corp.example.com`). */
const PATTERN = /^[A-Za-z0-9*?[\]._~-]+(\/[A-Za-z0-9*?[\]._~-]+)*$/;

export function parseGoPrivate(get: InputGetter): GoPrivateInput | undefined {
  const patterns = get('go-private')
    .split(/[,\n]/)
    .map((p) => p.trim())
    .filter((p) => p !== '');
  const token = get('go-private-token').trim();
  const username = get('go-private-username').trim() || 'x-access-token';
  const proxy = get('go-private-proxy').trim();
  if (patterns.length === 0) {
    if (token !== '') throw new InputError('go-private-token', '(not shown)', 'nothing unless go-private names the private modules');
    if (proxy !== '') throw new InputError('go-private-proxy', proxy, 'nothing unless go-private names the private modules');
    return undefined;
  }
  for (const p of patterns) {
    if (!PATTERN.test(p))
      throw new InputError('go-private', p, 'module path patterns as GOPRIVATE takes them, e.g. "github.com/acme/*,gitlab.example.com"');
  }
  if (proxy !== '') {
    let url: URL | undefined;
    try {
      url = new URL(proxy);
    } catch {
      url = undefined;
    }
    if (!url || url.protocol !== 'https:' || url.username || url.password || url.search || url.hash) {
      throw new InputError(
        'go-private-proxy',
        proxy,
        'an https:// URL of a module proxy, without credentials in it (Go sends the token from .netrc only over HTTPS; give it in go-private-token)'
      );
    }
  }
  return { patterns, token, username, ...(proxy ? { proxy: proxy.replace(/\/+$/, '') } : {}) };
}
