// Registry command lines, pure: logins, reads (`buildx imagetools inspect`), tags
// (`buildx imagetools create`: an index of what was pushed by digest), and a credential helper's
// `get` (the registry API's tag list needs the credentials the docker CLI would use).

export function loginArgs(registry: string, username: string): string[] {
  return ['login', `--username=${username}`, '--password-stdin', registry];
}

export function logoutArgs(registry: string): string[] {
  return ['logout', registry];
}

/** A read of a reference in a registry: `--raw` (the manifest or index bytes) or a `--format=` template. */
export function inspectArgs(target: string, format: '--raw' | `--format=${string}`): string[] {
  return ['buildx', 'imagetools', 'inspect', target, format];
}

/**
 * Tags, made from what was pushed by digest: one index of every platform of every source, with
 * `annotations` on the index itself (where GHCR and Docker Hub read a multi-arch image's
 * description and source), pushed under every ref of `refs` (buildx copies the sources into each
 * ref's repository, on any registry). `dryRun`: print the index instead of pushing it (its digest
 * is known before any tag exists).
 */
export function tagArgs(refs: string[], sources: string[], annotations: Record<string, string> = {}, dryRun = false): string[] {
  const a = ['buildx', 'imagetools', 'create', ...(dryRun ? ['--dry-run'] : []), ...refs.map((r) => `--tag=${r}`)];
  for (const [k, v] of Object.entries(annotations)) a.push(`--annotation=index:${k}=${v}`);
  return [...a, ...sources];
}

/** `docker-credential-<helper> get` (the server on stdin), as the docker CLI runs a credHelpers/credsStore entry. */
export function credentialHelperCommand(helper: string): { tool: string; args: string[] } {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(helper))
    throw new Error(`the Docker config names a credential helper "${helper}" that is not a program name`);
  return { tool: `docker-credential-${helper}`, args: ['get'] };
}
