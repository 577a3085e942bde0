// Private Go modules, pure: the build args that make Go fetch them (GOPRIVATE, GONOSUMDB; with a
// company proxy GOPROXY and GONOPROXY=none, as `go help private` documents) and the .netrc that
// carries the token to their hosts: the proxy's host with its port (Go matches the machine
// against the URL's host and port, and sends .netrc credentials only over HTTPS), and each
// pattern's host that is not a glob.
import type { GoPrivateInput } from './types.js';

export const NETRC_SECRET = 'netrc';

/** The hosts the token is for. */
export function goPrivateHosts(g: GoPrivateInput): string[] {
  const hosts = g.proxy ? [new URL(g.proxy).host] : [];
  for (const p of g.patterns) {
    const host = p.split('/')[0] ?? '';
    if (host !== '' && !/[*?[\]]/.test(host) && host.includes('.') && !hosts.includes(host)) hosts.push(host);
  }
  return hosts;
}

/** The build args; `userGoproxy` (a GOPROXY build arg of the workflow's) follows the private proxy. */
export function goPrivateArgs(g: GoPrivateInput, userGoproxy?: string): Record<string, string> {
  const patterns = g.patterns.join(',');
  const args: Record<string, string> = { GOPRIVATE: patterns, GONOSUMDB: patterns };
  if (g.proxy) {
    // Every module through the proxies in order: the private one first; a 404 or 410 there falls through.
    args.GOPROXY = `${g.proxy},${userGoproxy || 'https://proxy.golang.org,direct'}`;
    args.GONOPROXY = 'none';
  }
  return args;
}

/** The .netrc secret's content: a machine line per host. */
export function netrc(g: GoPrivateInput): string {
  return goPrivateHosts(g)
    .map((h) => `machine ${h} login ${g.username} password ${g.token}\n`)
    .join('');
}
