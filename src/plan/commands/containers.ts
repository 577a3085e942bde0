// Engine command lines for a smoke test, pure: load an image, read its ID, run it detached,
// watch it (state, published port, output), remove it; and the QEMU interpreters' installer.
import type { SmokeSpec } from '../types.js';

/** The pinned image that registers QEMU interpreters in binfmt_misc. */
export const BINFMT_IMAGE = 'tonistiigi/binfmt:qemu-v9.2.2';

export function binfmtInstallArgs(archs: string[]): string[] {
  return ['run', '--privileged', '--rm', BINFMT_IMAGE, `--install=${archs.join(',')}`];
}

export function loadArgs(tarFile: string): string[] {
  return ['load', `--input=${tarFile}`];
}

export function imageIdArgs(ref: string): string[] {
  return ['image', 'inspect', '--format={{.Id}}', ref];
}

export function smokeRunArgs(ref: string, platform: string, smoke: Extract<SmokeSpec, { enabled: true }>, containerName: string): string[] {
  // Detached, so a server can be watched while it runs; smoke.ts removes the container at the end.
  const a = ['run', '--detach', `--name=${containerName}`, `--platform=${platform}`, '--pull=never'];
  // A random port on loopback only: nothing outside the runner reaches the image under test.
  if (smoke.wait.kind === 'http') a.push(`--publish=127.0.0.1::${smoke.wait.port}`);
  for (const [k, v] of Object.entries(smoke.env)) a.push(`--env=${k}=${v}`);
  if (smoke.entrypoint !== undefined) a.push(`--entrypoint=${smoke.entrypoint}`);
  a.push(ref, ...smoke.args);
  return a;
}

export function containerStateArgs(name: string): string[] {
  return ['container', 'inspect', '--format={{json .State}}', name];
}

export function portArgs(name: string, port: number): string[] {
  return ['port', name, `${port}/tcp`];
}

export function logsArgs(name: string): string[] {
  return ['logs', name];
}

export function removeContainerArgs(name: string): string[] {
  return ['rm', '--force', '--volumes', name];
}

/** Untags the image loaded for a smoke test (the engine deletes it when no other tag names it). */
export function removeImageArgs(ref: string): string[] {
  return ['image', 'rm', ref];
}
