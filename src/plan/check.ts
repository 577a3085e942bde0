// The Dockerfile check applied to the plan: per image, what its Dockerfile means for this run
// (warnings with line numbers, where QEMU is needed, Go compiles under emulation, Go cache mounts,
// the Go cache mounts a go build lacks (derived-dockerfile.ts), what private modules need) and the
// GOMAXPROCS build arg for a Go compile that runs under QEMU. No I/O (the caller reads the files);
// applyChecks writes each image's check into the plan it is given, before the plan runs.
import { goBuildSteps, goCacheFindings, GOLANG_IMAGE_PATHS, GOLANG_PATHS_NOTE } from './derived-dockerfile.js';
import { analyseDockerfile, platformsExecuted, type DockerfileReport } from './dockerfile.js';
import { emulatedHere } from './findings.js';
import { usableMounts } from './go-cache.js';
import { privateModuleFindings } from './private-modules-check.js';
import { archOf, emulatedPlatforms } from './platforms.js';
import type { DockerfileCheck, Plan, PlannedImage } from './types.js';

/** `remote`: platforms a build node builds natively (not emulated here). */
export function checkDockerfile(
  img: PlannedImage,
  text: string,
  buildPlatform: string,
  remote: string[] = [],
  goPrivate?: Plan['goPrivate']
): DockerfileCheck {
  const report = analyseFor(img, text);
  const host = archOf(buildPlatform);
  const executes = platformsExecuted(report, img.platforms, buildPlatform);
  const emulatedRuns = emulatedPlatforms(
    executes.filter((p) => !remote.includes(p)),
    host
  );
  const local = img.platforms.filter((p) => !remote.includes(p));
  const goUnderEmulation = report.goCompileUnderEmulation ? emulatedPlatforms(local, host) : [];
  const findings = report.findings.flatMap((f) => {
    if (f.code !== 'final-stage-emulated') return [f];
    // Only worth saying when some platform of this build is not native.
    return emulatedRuns.length > 0 ? [{ ...f, message: `${f.message}${emulatedHere(emulatedRuns)}` }] : [];
  });
  if (goPrivate) findings.push(...privateModuleFindings(report, { hosts: goPrivate.hosts, proxy: goPrivate.proxy }));
  // With the golang image's paths: the derived Dockerfile phase asks the image and says it again.
  const steps = goBuildSteps(text, report, () => GOLANG_IMAGE_PATHS);
  findings.push(...goCacheFindings(report, steps, { pathsFrom: () => GOLANG_PATHS_NOTE, derived: false }));
  findings.sort((a, b) => a.line - b.line || a.code.localeCompare(b.code));
  const check: DockerfileCheck = { findings, executes, goUnderEmulation };
  const goCache = goCacheSpec(report);
  if (goCache) check.goCache = goCache;
  return check;
}

/** The analysis of an image's Dockerfile, for its target, build args and platforms. */
export function analyseFor(img: PlannedImage, text: string): DockerfileReport {
  return analyseDockerfile(text, {
    ...(img.target !== undefined ? { target: img.target } : {}),
    buildArgs: img.buildArgs,
    platforms: img.platforms
  });
}

/** The cache mounts of the stages built, with the image of the stage that mounts them (it has sh and cp). */
export function goCacheSpec(report: DockerfileReport): DockerfileCheck['goCache'] {
  const mounts = usableMounts(report.cacheMounts);
  const rootImage = (i: number): string => {
    let s = report.stages[i];
    while (s?.base !== undefined) s = report.stages[s.base];
    return s?.image ?? 'scratch';
  };
  const stageOf = (id: string): number =>
    report.used.find((i) => report.stages[i]?.runs.some((r) => r.mounts.some((m) => m.id === id))) ?? -1;
  const first = mounts[0];
  if (!first) return undefined;
  const image = rootImage(stageOf(first.id));
  if (image === 'scratch' || image === '') return undefined;
  const same = mounts.filter((m) => rootImage(stageOf(m.id)) === image);
  return { baseImage: image, mounts: same.map(({ id, target, sharing, uid, gid, mode }) => ({ id, target, sharing, uid, gid, mode })) };
}

/**
 * Attaches each image's check to the plan, and gives a build whose Go compile runs under QEMU a
 * GOMAXPROCS build arg (unless the workflow sets one). Returns lines for the log; a Dockerfile the
 * check cannot follow leaves that image unchecked (QEMU for all its platforms).
 */
export function applyChecks(
  plan: Plan,
  read: (dockerfile: string) => string,
  buildPlatform: string,
  cpus: number
): { notices: string[]; warnings: string[] } {
  const log = { notices: [] as string[], warnings: [] as string[] };
  const remote = plan.builderEndpoints.flatMap((e) => e.platforms);
  for (const img of plan.images) {
    try {
      img.check = checkDockerfile(img, read(img.dockerfile), buildPlatform, remote, plan.goPrivate);
    } catch (e) {
      // BuildKit has the last word on a Dockerfile the check cannot follow: this image goes unchecked.
      log.warnings.push(`${img.name}: Dockerfile check skipped: ${(e as Error).message}`);
      continue;
    }
    const emulatedGo = img.check.goUnderEmulation;
    if (emulatedGo.length > 0 && img.buildArgs.GOMAXPROCS === undefined) {
      img.buildArgs.GOMAXPROCS = String(cpus);
      log.notices.push(
        `${img.name}: Go compiles under QEMU for ${emulatedGo.join(', ')}: build arg GOMAXPROCS=${cpus}, the runner's CPU count ` +
          '(declare ARG GOMAXPROCS in the build stage to use it instead of a hard-coded GOMAXPROCS=1, which makes the compile serial). ' +
          'Much faster: FROM --platform=$BUILDPLATFORM and cross-compile with GOOS/GOARCH.'
      );
    }
  }
  return log;
}
