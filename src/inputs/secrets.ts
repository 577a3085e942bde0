// Build secrets, as docker/build-push-action's users know them, pure: `secrets` (id=value lines),
// `secret-envs` (id=ENV_NAME), `secret-files` (id=path) and `ssh` (default, or id=path). A value
// never appears in an error. Where each value comes from is checked against the step's
// environment and the workspace before anything runs (files.ts).
import type { BuildSecretsInput } from '../plan/types.js';
import { InputError, type InputGetter } from './values.js';

/** A secret id goes into `--secret=id=…`: letters, digits, ".", "_" and "-". */
const ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Lines of id=rest; `shown` says how a line appears in an error (never a secret value). */
function idLines(input: string, raw: string, expected: string, hideValue = false): { id: string; rest: string }[] {
  const out: { id: string; rest: string }[] = [];
  for (const line of raw.split('\n')) {
    const l = line.trim();
    if (l === '' || l.startsWith('#')) continue;
    const eq = l.indexOf('=');
    const id = eq > 0 ? l.slice(0, eq).trim() : '';
    const rest = eq > 0 ? l.slice(eq + 1).trim() : '';
    const shown = hideValue ? `${id || '(no id)'}=(not shown)` : l;
    if (!ID.test(id) || rest === '') throw new InputError(input, shown, expected);
    out.push({ id, rest });
  }
  return out;
}

export function parseBuildSecrets(get: InputGetter): BuildSecretsInput {
  const secrets = idLines(
    'secrets',
    get('secrets'),
    'lines of id=value (id: letters, digits, ".", "_", "-"; the value not empty)',
    true
  ).map(({ id, rest }) => ({ id, value: rest }));
  const envs = idLines('secret-envs', get('secret-envs'), 'lines of id=ENV_NAME, the name of a variable of the step').map(
    ({ id, rest }) => {
      if (!ENV_NAME.test(rest)) throw new InputError('secret-envs', `${id}=${rest}`, 'lines of id=ENV_NAME, ENV_NAME a variable name');
      return { id, env: rest };
    }
  );
  const files = idLines('secret-files', get('secret-files'), 'lines of id=path, a file in the workspace or an absolute path').map(
    ({ id, rest }) => ({ id, path: rest })
  );
  const ssh = get('ssh')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  for (const s of ssh) {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*(=[^\s,]+(,[^\s,]+)*)?$/.test(s)) {
      throw new InputError(
        'ssh',
        s,
        '"default" (the SSH agent of SSH_AUTH_SOCK), or lines of id or id=path[,path] (a socket or key files)'
      );
    }
  }
  const seen = new Set<string>();
  for (const [input, id] of [
    ...secrets.map((s) => ['secrets', s.id] as const),
    ...envs.map((s) => ['secret-envs', s.id] as const),
    ...files.map((s) => ['secret-files', s.id] as const)
  ]) {
    if (seen.has(id)) throw new InputError(input, id, 'each secret id once across secrets, secret-envs and secret-files');
    seen.add(id);
  }
  return { secrets, envs, files, ssh };
}
