// GitHub's artifact attestations API as @actions/attest uses it (GITHUB_API_URL points here):
// `POST /repos/{owner}/{repo}/attestations` with `{"bundle": <Sigstore bundle>}` answers 201
// `{"id": N}` and keeps what it got; `GET /repos/{owner}/{repo}/attestations/sha256:HEX` lists the
// bundles whose subject has that digest, as `gh attestation verify` reads them. Requests without a
// token get 401, as GitHub answers them.
import { json, listen, type LoopbackServer } from './loopback-server.js';

export interface ReceivedAttestation {
  id: number;
  owner: string;
  repo: string;
  /** The Authorization header it came with. */
  authorization: string;
  bundle: {
    mediaType?: string;
    dsseEnvelope?: { payload: string; payloadType: string };
    verificationMaterial?: Record<string, unknown>;
  };
}

export interface AttestationsApi {
  server: LoopbackServer;
  received: ReceivedAttestation[];
}

/** The in-toto statement a DSSE bundle signs. */
export function statementOf(a: ReceivedAttestation): {
  subject: { name: string; digest: Record<string, string> }[];
  predicateType: string;
  predicate: unknown;
} {
  return JSON.parse(Buffer.from(a.bundle.dsseEnvelope?.payload ?? '', 'base64').toString()) as ReturnType<typeof statementOf>;
}

export async function startAttestationsApi(): Promise<AttestationsApi> {
  const received: ReceivedAttestation[] = [];
  const server = await listen((req, body) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const authorization = req.headers.authorization ?? '';
    if (!/^(token|bearer) \S+/i.test(authorization)) return json(401, { message: 'Requires authentication', status: '401' });
    const post = /^\/repos\/([^/]+)\/([^/]+)\/attestations$/.exec(url.pathname);
    if (req.method === 'POST' && post) {
      const { bundle } = JSON.parse(body.toString()) as { bundle?: ReceivedAttestation['bundle'] };
      if (!bundle?.mediaType) return json(422, { message: 'Invalid request.', status: '422' });
      const id = received.length + 1;
      received.push({ id, owner: post[1] ?? '', repo: post[2] ?? '', authorization, bundle });
      return json(201, { id });
    }
    const get = /^\/repos\/([^/]+)\/([^/]+)\/attestations\/(sha256:[0-9a-f]{64})$/.exec(url.pathname);
    if (req.method === 'GET' && get) {
      const [, owner, repo, digest] = get;
      const hits = received.filter(
        (a) => a.owner === owner && a.repo === repo && statementOf(a).subject.some((s) => `sha256:${s.digest.sha256}` === digest)
      );
      if (hits.length === 0) return json(404, { message: 'Not Found', status: '404' });
      return json(200, { attestations: hits.map((a) => ({ bundle: a.bundle, repository_id: 2002 })) });
    }
    return json(404, { message: 'Not Found', status: '404' });
  });
  return { server, received };
}
