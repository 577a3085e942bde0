// Unit tests' stand-in for an engine and a registry, for runs through the whole pipeline.
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import type { ExecResult } from '../../src/run/runner.js';

export const DIGEST = (n: number): string => `sha256:${String(n).repeat(64)}`;

/** `buildx inspect`'s answer where the current builder uses the docker driver (the action then creates one of its own). */
export const DOCKER_DRIVER_BUILDER: Partial<ExecResult> = { stdout: 'Name: default\nDriver: docker\n' };

/** A fake engine and registry for one architecture: each push by digest gets its own digest. */
export function platformEngine(arch: 'amd64' | 'arm64', smokeExit = 0): (args: string[]) => Partial<ExecResult> {
  const n = arch === 'amd64' ? 1 : 2;
  return (args) => {
    if (args[0] === 'buildx' && args[1] === 'inspect') return { stdout: 'Name: b\nDriver: docker-container\n' };
    const metadata = args.find((a) => a.startsWith('--metadata-file='))?.slice('--metadata-file='.length);
    if (metadata && args.some((a) => a.includes('push-by-digest=true')))
      writeFileSync(metadata, JSON.stringify({ 'containerimage.digest': DIGEST(n) }));
    if (args[0] === 'container' && args[1] === 'inspect') return { stdout: JSON.stringify({ Status: 'exited', ExitCode: smokeExit }) };
    if (args[0] === 'image' && args[1] === 'inspect') return { stdout: `${DIGEST(n + 4)}\n` };
    if (args[1] === 'imagetools' && args[2] === 'inspect') return registry(args);
    return {};
  };
}

/** The registry both runners pushed to: index 1 (amd64 manifest 5), index 2 (arm64 manifest 6); the tags name index 9 (both). */
function registry(args: string[]): Partial<ExecResult> {
  const ref = args[3] ?? '';
  if (args.includes('--format={{json .Image}}')) return { exitCode: 1, stderr: `ERROR: ${ref}: not found` };
  if (!args.includes('--raw')) return { stdout: JSON.stringify({ digest: DIGEST(9) }) };
  if (ref.endsWith(DIGEST(1)))
    return { stdout: JSON.stringify({ manifests: [{ digest: DIGEST(5), size: 1, platform: { os: 'linux', architecture: 'amd64' } }] }) };
  if (ref.endsWith(DIGEST(2)))
    return { stdout: JSON.stringify({ manifests: [{ digest: DIGEST(6), size: 1, platform: { os: 'linux', architecture: 'arm64' } }] }) };
  if (ref.endsWith(DIGEST(9)))
    return {
      stdout: JSON.stringify({
        manifests: [
          { digest: DIGEST(5), size: 1, platform: { os: 'linux', architecture: 'amd64' } },
          { digest: DIGEST(6), size: 1, platform: { os: 'linux', architecture: 'arm64' } }
        ]
      })
    };
  if (ref.endsWith(DIGEST(5)) || ref.endsWith(DIGEST(6)))
    return { stdout: JSON.stringify({ config: { digest: DIGEST(7), size: 1 }, layers: [] }) };
  return { stdout: JSON.stringify({ manifests: [] }) };
}

/**
 * A fake engine and registry, answering as buildx does: each push by digest gets a digest of its
 * own, an index of the platforms it pushed, whose manifests name the config the engine gives as
 * the loaded image's ID; `imagetools create --dry-run` prints the index of its sources' images. A
 * smoke container started with a published port is a running server that answers, any other
 * exits 0.
 */
export function pushingEngine(): (args: string[]) => Partial<ExecResult> {
  const servers = new Set<string>();
  const pushes = new Map<string, string[]>();
  const sha = (s: string): string => `sha256:${createHash('sha256').update(s).digest('hex')}`;
  const manifestsOf = (digest: string) =>
    (pushes.get(digest) ?? []).map((p) => {
      const [os, architecture, variant] = p.split('/');
      return { digest: sha(`${digest} ${p}`), size: 1, platform: { os, architecture, ...(variant ? { variant } : {}) } };
    });
  return (args) => {
    const name = args.find((a) => a.startsWith('--name='))?.slice('--name='.length);
    if (args[0] === 'run' && name && args.some((a) => a.startsWith('--publish='))) servers.add(name);
    if (args[0] === 'container' && args[1] === 'inspect')
      return {
        stdout: JSON.stringify(servers.has(args[3] ?? '') ? { Status: 'running', ExitCode: 0 } : { Status: 'exited', ExitCode: 0 })
      };
    if (args[0] === 'port') return { stdout: '127.0.0.1:1\n' };
    if (args[0] === 'buildx' && args[1] === 'inspect') return { stdout: 'Name: b\nDriver: docker-container\n' };
    const metadata = args.find((a) => a.startsWith('--metadata-file='))?.slice('--metadata-file='.length);
    if (metadata && args.some((a) => a.includes('push-by-digest=true'))) {
      const digest = sha(`push ${pushes.size} ${Math.random()}`);
      pushes.set(
        digest,
        args
          .find((a) => a.startsWith('--platform='))
          ?.slice('--platform='.length)
          .split(',') ?? []
      );
      writeFileSync(metadata, JSON.stringify({ 'containerimage.digest': digest }));
      return {};
    }
    if (args[0] === 'image' && args[1] === 'inspect') return { stdout: `${DIGEST(7)}\n` };
    if (args[1] === 'imagetools' && args[2] === 'create' && args[3] === '--dry-run') {
      const manifests = args.filter((a) => a.includes('@')).flatMap((a) => manifestsOf(a.slice(a.indexOf('@') + 1)));
      return { stdout: `${JSON.stringify({ schemaVersion: 2, manifests })}\n` };
    }
    if (args[1] === 'imagetools' && args[2] === 'inspect' && args[4] === '--raw') {
      const digest = (args[3] ?? '').slice((args[3] ?? '').indexOf('@') + 1);
      if (pushes.has(digest)) return { stdout: JSON.stringify({ manifests: manifestsOf(digest) }) };
      return { stdout: JSON.stringify({ config: { digest: DIGEST(7), size: 1 }, layers: [{ size: 2 }] }) };
    }
    return platformEngine('amd64')(args);
  };
}

/** A Sigstore bundle as `cosign download attestation` prints it: a DSSE envelope of a statement of this type about this digest. */
export const bundleLine = (type: string, d: string): string =>
  JSON.stringify({
    mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
    dsseEnvelope: {
      payloadType: 'application/vnd.in-toto+json',
      payload: Buffer.from(
        JSON.stringify({
          _type: 'https://in-toto.io/Statement/v1',
          predicateType: type,
          subject: [{ name: 'x', digest: { sha256: d.slice(7) } }]
        })
      ).toString('base64')
    }
  });
