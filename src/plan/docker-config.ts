// The action's own Docker config, pure: it starts from the workflow's (what earlier steps logged in
// to: `docker login`, docker/login-action, a cloud registry's login action, a credential helper
// that `gcloud auth configure-docker` names), so pulls and pushes use those credentials; a
// registry the action logs in to itself is taken out of the user's credentials, so the action's
// login wins for this run and is written to the action's own file (never to the user's file or
// credential store).

/** The parts of a Docker config that hold or find credentials. */
export interface CredentialConfig {
  auths?: Record<string, unknown>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
}

/** Docker Hub's credentials live under the v1 index server's URL, whichever of its names is used. */
const DOCKER_HUB = 'https://index.docker.io/v1/';
const HUB_NAMES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io', DOCKER_HUB]);

/** The keys a registry's credentials are stored and looked up under. */
export function credentialKeys(registry: string): string[] {
  return HUB_NAMES.has(registry) ? [DOCKER_HUB, 'docker.io', 'index.docker.io', 'registry-1.docker.io'] : [registry];
}

/** The action's Docker config: the user's credentials, minus those of the registries the action logs in to. */
export function actionDockerConfig(user: unknown, actionLogins: string[]): CredentialConfig {
  const u = (typeof user === 'object' && user !== null ? user : {}) as Record<string, unknown>;
  const config: CredentialConfig = {};
  const auths = isRecord(u.auths) ? { ...u.auths } : {};
  const helpers: Record<string, string> = {};
  if (isRecord(u.credHelpers)) for (const [k, v] of Object.entries(u.credHelpers)) if (typeof v === 'string') helpers[k] = v;
  for (const key of actionLogins.flatMap(credentialKeys)) {
    delete auths[key];
    // An empty helper name is the CLI's own file store: the action's login goes to its file,
    // not to the user's helper or credsStore.
    helpers[key] = '';
  }
  if (Object.keys(auths).length > 0) config.auths = auths;
  if (Object.keys(helpers).length > 0) config.credHelpers = helpers;
  if (typeof u.credsStore === 'string' && u.credsStore !== '') config.credsStore = u.credsStore;
  return config;
}

/** Whether a config can give credentials for a registry: an auth entry, a helper named for it, or a store for all. */
export function hasCredentials(config: CredentialConfig, registry: string): boolean {
  return (
    credentialKeys(registry).some((k) => {
      if (config.auths && k in config.auths) return true;
      const helper = config.credHelpers?.[k];
      return helper !== undefined ? helper !== '' : false;
    }) || Boolean(config.credsStore)
  );
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
