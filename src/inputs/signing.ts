// sign: false | keyless | key, with cosign-key and cosign-password for key, and transparency-log. Pure.
import type { SignSpec } from '../plan/types.js';
import { bool, InputError, type InputGetter, oneOf } from './values.js';

export function parseSign(get: InputGetter): SignSpec {
  const mode = oneOf('sign', get('sign'), ['false', 'keyless', 'key'] as const, 'false');
  const key = get('cosign-key').trim();
  const password = get('cosign-password');
  const tlog = bool('transparency-log', get('transparency-log'), true);
  if (mode !== 'key' && key !== '') throw new InputError('cosign-key', '(not shown)', `nothing unless sign is "key" (sign is "${mode}")`);
  if (mode === 'key' && key === '') {
    throw new InputError('cosign-key', '', 'the cosign private key (the contents of cosign.key, from a secret), since sign is "key"');
  }
  if (mode === 'key' && !/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(key)) {
    throw new InputError(
      'cosign-key',
      '(not shown)',
      'a PEM private key as `cosign generate-key-pair` writes it ("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----")'
    );
  }
  if (mode === 'keyless' && !tlog) {
    throw new InputError(
      'transparency-log',
      'false',
      'true with sign: keyless (a keyless signature is only checkable through the transparency log)'
    );
  }
  if (mode === 'false') return { mode };
  if (mode === 'keyless') return { mode, transparencyLog: true };
  return { mode, key, password, transparencyLog: tlog };
}
