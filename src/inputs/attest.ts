// attest: false | github, attest-smoke: auto | true | false (auto: on when sign or attest is set),
// and github-token (the token the attestations API takes, kept only with attest: github). Pure.
import type { AttestInput, SignSpec } from '../plan/types.js';
import { InputError, type InputGetter, oneOf, tristate } from './values.js';

export function parseAttest(get: InputGetter, sign: SignSpec): AttestInput {
  const github = oneOf('attest', get('attest'), ['false', 'github'] as const, 'false') === 'github';
  const smoke = tristate('attest-smoke', get('attest-smoke'));
  const token = get('github-token').trim();
  const signs = sign.mode !== 'false';
  if (smoke === 'true' && !signs && !github) {
    throw new InputError(
      'attest-smoke',
      'true',
      '"auto" or "false" unless sign or attest is set: the smoke-test statement is signed in the sign mode, or by GitHub\'s artifact attestations (attest: github)'
    );
  }
  return { smoke: smoke === 'auto' ? signs || github : smoke === 'true', github, token: github ? token : '' };
}
