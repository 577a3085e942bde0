// Unit tests' stand-in for an engine and a registry, for runs through the whole pipeline.
import { writeFileSync } from 'node:fs';
import type { ExecResult } from '../../src/run/runner.js';

export const DIGEST = (n: number): string => `sha256:${String(n).repeat(64)}`;

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
