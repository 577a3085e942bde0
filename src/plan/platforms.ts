// Platforms: which a host runs natively, which need emulation. Pure.

/** Architectures a host of each architecture runs without emulation. */
const NATIVE: Record<string, string[]> = { amd64: ['amd64', '386'], arm64: ['arm64', 'arm'] };

/** Every platform of a list of images, each once, in order. */
export function platformsOf(images: { platforms: string[] }[]): string[] {
  return [...new Set(images.flatMap((i) => i.platforms))];
}

export function archOf(platform: string): string {
  return platform.split('/')[1] ?? '';
}

/** The platforms of the list that the host cannot run natively. */
export function emulatedPlatforms(platforms: string[], hostArch: string): string[] {
  const native = NATIVE[hostArch] ?? [hostArch];
  return platforms.filter((p) => !native.includes(archOf(p)));
}
