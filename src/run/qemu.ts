// QEMU: which platforms cannot run natively, whether binfmt_misc already has their interpreters,
// and installing the missing ones with a pinned tonistiigi/binfmt image.
import { readFileSync } from 'node:fs';
import * as core from '@actions/core';
import { archOf, emulatedPlatforms } from '../plan/platforms.js';
import type { Plan, PlannedImage } from '../plan/types.js';
import { BINFMT_IMAGE, binfmtInstallArgs } from '../plan/commands/containers.js';
import type { Runner } from './runner.js';

/** binfmt_misc entry name for each architecture (as Debian and tonistiigi/binfmt register them). */
const BINFMT_NAMES: Record<string, string> = {
  amd64: 'qemu-x86_64',
  arm64: 'qemu-aarch64',
  arm: 'qemu-arm',
  '386': 'qemu-i386',
  ppc64le: 'qemu-ppc64le',
  ppc64: 'qemu-ppc64',
  s390x: 'qemu-s390x',
  riscv64: 'qemu-riscv64',
  mips64le: 'qemu-mips64el',
  mips64: 'qemu-mips64',
  loong64: 'qemu-loongarch64'
};

export function nodeArch(arch: string = process.arch): string {
  return (
    (
      { x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' } as Record<
        string,
        string
      >
    )[arch] ?? arch
  );
}

export type BinfmtReader = (name: string) => string | undefined;

export const readBinfmt: BinfmtReader = (name) => {
  try {
    return readFileSync(`/proc/sys/fs/binfmt_misc/${name}`, 'utf8');
  } catch {
    return undefined;
  }
};

/** Architectures whose interpreter is not registered and enabled. */
export function missingInterpreters(platforms: string[], read: BinfmtReader): string[] {
  const archs = [...new Set(platforms.map(archOf))];
  return archs.filter((a) => {
    const name = BINFMT_NAMES[a];
    const entry = name ? read(name) : undefined;
    return !entry || !/^enabled$/m.test(entry);
  });
}

export async function setupQemu(
  mode: 'auto' | 'true' | 'false',
  platforms: string[],
  runner: Runner,
  read: BinfmtReader = readBinfmt,
  hostArch: string = nodeArch()
): Promise<string[]> {
  const emulated = mode === 'true' ? platforms.filter((p) => archOf(p) !== hostArch) : emulatedPlatforms(platforms, hostArch);
  if (mode === 'false' || emulated.length === 0) {
    core.info(
      emulated.length === 0
        ? 'QEMU: not needed: nothing executes on a platform this runner cannot run (Go cross-compiled on the build platform, smoke tests native)'
        : `QEMU: off (qemu: false); platforms needing emulation: ${emulated.join(', ')}`
    );
    return emulated;
  }
  const missing = missingInterpreters(emulated, read);
  if (missing.length === 0) {
    core.info(`QEMU: emulating ${emulated.join(', ')} with interpreters already registered in binfmt_misc`);
    return emulated;
  }
  core.info(`QEMU: installing interpreters for ${missing.join(', ')} with ${BINFMT_IMAGE}; emulating ${emulated.join(', ')}`);
  await runner.docker(binfmtInstallArgs(missing));
  return emulated;
}

/**
 * Pure: the platforms something will execute on. A build executes only where its Dockerfile runs
 * RUN steps (a cross-compiled Go binary copied into scratch executes nothing for the target
 * platforms); a plan made without the Dockerfile check counts every platform. Smoke tests run
 * their platforms.
 */
export function qemuPlatforms(plan: Plan, smoked: (img: PlannedImage) => string[]): string[] {
  const out = new Set<string>();
  // Platforms a build node builds execute there, natively, not on this runner.
  const remote = new Set(plan.builderEndpoints.flatMap((e) => e.platforms));
  for (const img of plan.images) {
    for (const p of img.check ? img.check.executes : img.platforms) if (!remote.has(p)) out.add(p);
    if (img.smoke.enabled) smoked(img).forEach((p) => out.add(p));
  }
  return [...out];
}
