// The two files a private Sigstore hands its clients, for the stand-in's services: the trusted
// root (Sigstore trusted root v0.1 JSON: Fulcio's CA, the CT log and Rekor keys, the TSA chain;
// what `cosign verify --trusted-root` and sigstore verifiers read) and a signing config (v0.2:
// where Fulcio, Rekor, the TSA and the OIDC provider are; what `cosign sign --signing-config`
// reads).
import { createHash } from 'node:crypto';
import type { SigstoreServices } from './sigstore-services.js';

export const TRUSTED_ROOT_MEDIA_TYPE = 'application/vnd.dev.sigstore.trustedroot+json;version=0.1';
export const SIGNING_CONFIG_MEDIA_TYPE = 'application/vnd.dev.sigstore.signingconfig.v0.2+json';

const b64 = (b: ArrayBufferView | Buffer): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');

function publicKey(der: Buffer, start: string) {
  return {
    hashAlgorithm: 'SHA2_256',
    publicKey: { rawBytes: der.toString('base64'), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor: { start } },
    logId: { keyId: createHash('sha256').update(der).digest('base64') }
  };
}

/** `validFrom`: before anything the services issue (their keys were made just before). */
export function trustedRoot(s: SigstoreServices, validFrom: Date): object {
  const start = validFrom.toISOString();
  return {
    mediaType: TRUSTED_ROOT_MEDIA_TYPE,
    tlogs: [{ baseUrl: s.rekor.url, ...publicKey(s.rekorPublicKey, start) }],
    certificateAuthorities: [
      {
        subject: { organization: 'sigstore.mock', commonName: 'sigstore' },
        uri: s.fulcio.url,
        certChain: { certificates: [{ rawBytes: b64(s.ca.rootCertificate) }] },
        validFor: { start }
      }
    ],
    ctlogs: [{ baseUrl: `${s.fulcio.url}/ct`, ...publicKey(s.ctlog.publicKey, start) }],
    timestampAuthorities: [
      {
        subject: { organization: 'sigstore.mock', commonName: 'tsa' },
        uri: s.tsaUrl,
        certChain: { certificates: [{ rawBytes: b64(s.tsaAuthority.intCertificate) }, { rawBytes: b64(s.tsaAuthority.rootCertificate) }] },
        validFor: { start }
      }
    ]
  };
}

/** Which witnesses a signer is told to use: a transparency log, a timestamp authority, or both. */
export interface Witnesses {
  rekor: boolean;
  tsa: boolean;
}

export function signingConfig(s: SigstoreServices, oidcUrl: string, validFrom: Date, w: Witnesses = { rekor: true, tsa: true }): object {
  const service = (url: string) => ({
    url,
    majorApiVersion: 1,
    validFor: { start: validFrom.toISOString() },
    operator: 'gdp-sigstore-standin'
  });
  return {
    mediaType: SIGNING_CONFIG_MEDIA_TYPE,
    caUrls: [service(s.fulcio.url)],
    oidcUrls: [service(oidcUrl)],
    rekorTlogUrls: w.rekor ? [service(s.rekor.url)] : [],
    tsaUrls: w.tsa ? [service(s.tsaUrl)] : [],
    rekorTlogConfig: w.rekor ? { selector: 'ANY' } : {},
    tsaConfig: w.tsa ? { selector: 'ANY' } : {}
  };
}
