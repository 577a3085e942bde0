// Registry logins, pure: username/password (for `registry`) and the registries YAML list. A
// password is never echoed: an error in the registries YAML does not show the YAML.
import type { RegistryLogin } from '../plan/types.js';
import { InputError, isMap, isNonEmptyString, type InputGetter, yamlList } from './values.js';

const REGISTRY_KEYS = new Set(['registry', 'username', 'password']);

export function parseRegistries(get: InputGetter): RegistryLogin[] {
  const out: RegistryLogin[] = [];
  const username = get('username').trim();
  const password = get('password');
  const registry = get('registry').trim() || 'docker.io';
  if (password !== '' && username === '') throw new InputError('username', '', 'a username, since "password" is set');
  if (username !== '' && password === '') throw new InputError('password', '', `a password or token for "${username}"`);
  if (username !== '') out.push({ registry, username, password });
  const raw = get('registries');
  if (raw.trim() !== '') {
    const list = yamlList('registries', raw, 'a YAML list of {registry, username, password}', '(YAML not shown: it may hold passwords)');
    list.forEach((r, i) => {
      const where = `registries[${i}]`;
      if (!isMap(r)) throw new InputError(where, typeof r, 'a map {registry, username, password}');
      for (const k of Object.keys(r)) {
        if (!REGISTRY_KEYS.has(k)) throw new InputError(`${where}.${k}`, k, 'one of the keys registry, username, password');
      }
      if (!isNonEmptyString(r.registry)) throw new InputError(`${where}.registry`, r.registry, 'a registry host such as "ghcr.io"');
      const user = r.username === undefined ? '' : String(r.username).trim();
      const pass = r.password === undefined ? '' : String(r.password);
      if (pass !== '' && user === '')
        throw new InputError(`${where}.username`, '', `a username, since a password is set for ${r.registry}`);
      if (user === '' || pass === '') throw new InputError(`${where}.password`, '', `a username and a password for ${r.registry}`);
      out.push({ registry: r.registry.trim(), username: user, password: pass });
    });
  }
  const seen = new Set<string>();
  for (const r of out) {
    if (seen.has(r.registry))
      throw new InputError('registries', r.registry, 'each registry once (it is also given by "registry" or an earlier entry)');
    seen.add(r.registry);
  }
  return out;
}
