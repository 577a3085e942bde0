// What the Dockerfile check says, one table keyed by finding code: the severity of each finding
// and its message, made from what the analysis found (the stage, the lines, what to add). The
// analysis (dockerfile.ts) decides where a finding is; this table decides how it reads.

export type FindingCode =
  | 'go-under-qemu'
  | 'goos-goarch-missing'
  | 'goarm-missing'
  | 'cgo-not-disabled'
  | 'final-stage-emulated'
  | 'netrc-mount-missing'
  | 'go-private-args-missing'
  | 'go-cache-mount-missing';

/** What the messages are made of: the stage (as `stage "build"` or `stage 0`), its FROM line, the RUN line. */
export interface FindingFacts {
  stage: string;
  fromLine: number;
  runLine: number;
  /** goos-goarch-missing: the assignments the go build lacks (`GOOS=$TARGETOS`, …); or the platform ARGs it uses undeclared. */
  missing?: string[];
  undeclared?: string[];
  /** goarm-missing: the arm platforms built. */
  arm?: string[];
  /** netrc-mount-missing: the hosts the netrc secret is for. */
  hosts?: string[];
  /** cgo-not-disabled, final-stage-emulated: the final stage, its FROM image and line, its RUN steps. */
  final?: { stage: string; from: string; fromLine: number; runs: number };
  /** go-cache-mount-missing: the mounts to add, where their paths come from, whether this run adds them (or why not), why not the module cache. */
  mounts?: string[];
  pathsFrom?: string;
  derived?: boolean;
  kept?: string;
  noModuleCache?: string;
}

export const FINDINGS: Record<FindingCode, { severity: 'warning' | 'notice'; message: (f: FindingFacts) => string }> = {
  'go-under-qemu': {
    severity: 'warning',
    message: (f) =>
      `${f.stage} compiles Go under QEMU for every non-native platform (RUN at line ${f.runLine}): add --platform=$BUILDPLATFORM to its FROM (line ${f.fromLine}) and cross-compile with GOOS=$TARGETOS GOARCH=$TARGETARCH.`
  },
  'goos-goarch-missing': {
    severity: 'warning',
    message: (f) =>
      f.undeclared
        ? `${f.stage} uses ${f.undeclared.map((u) => `$${u}`).join(', ')} at line ${f.runLine} without declaring it in the stage, so it is empty and Go builds for the build platform: add "ARG ${f.undeclared.join(' ')}" after its FROM (line ${f.fromLine}).`
        : `${f.stage} runs on the build platform (--platform=$BUILDPLATFORM) but its go build at line ${f.runLine} does not set ${(f.missing ?? []).join(' and ')}, so every image gets a binary for the build platform: set ${(f.missing ?? []).join(' ')} on the go build (with ARG TARGETOS TARGETARCH in the stage).`
  },
  'goarm-missing': {
    severity: 'warning',
    message: (f) =>
      `${f.stage} cross-compiles for ${(f.arm ?? []).join(', ')} but its go build at line ${f.runLine} does not set GOARM from TARGETVARIANT (Go then defaults to GOARM=7, which does not run on ARMv6): add GOARM=\${TARGETVARIANT#v} to the go build and ARG TARGETVARIANT to the stage.`
  },
  'cgo-not-disabled': {
    severity: 'warning',
    message: (f) =>
      `${f.stage} builds Go at line ${f.runLine} without CGO_ENABLED=0, and the final ${f.final?.stage ?? 'stage'} (FROM ${f.final?.from ?? ''}, line ${f.final?.fromLine ?? 0}) has no C library, so a cgo-linked binary fails to start: set CGO_ENABLED=0 on the go build.`
  },
  'netrc-mount-missing': {
    severity: 'warning',
    message: (f) =>
      `${f.stage} fetches Go modules at line ${f.runLine} without the netrc secret, and go-private is set: add --mount=type=secret,id=netrc,target=/root/.netrc to that RUN (the action gives every build a netrc secret for ${(f.hosts ?? []).join(', ')}; Go reads $HOME/.netrc).`
  },
  'go-private-args-missing': {
    severity: 'warning',
    message: (f) =>
      `${f.stage} fetches Go modules at line ${f.runLine} but does not declare ${(f.missing ?? []).join(', ')}, so the build args go-private sets do not reach Go there: add "ARG ${(f.missing ?? []).join(' ')}" after its FROM (line ${f.fromLine}).`
  },
  'go-cache-mount-missing': {
    severity: 'notice',
    message: (f) => {
      const why = `${f.stage} runs go build at line ${f.runLine} with no Go build cache mount, so every release (a new -X main.version) compiles every package again`;
      const add = `${(f.mounts ?? []).join(' ')}${f.noModuleCache ? ` (not the module cache: ${f.noModuleCache})` : ''}`;
      return f.derived
        ? `${why}: this run builds from a derived copy of the Dockerfile that adds ${add} to that RUN (${f.pathsFrom}); add them to the Dockerfile to make it permanent.`
        : `${why}: add ${add} to that RUN (${f.pathsFrom})${f.kept ? `; the action leaves it as written: ${f.kept}` : ''}. With go-cache: auto the action keeps the caches between runs.`;
    }
  },
  'final-stage-emulated': {
    severity: 'notice',
    message: (f) =>
      `The final ${f.stage} (FROM line ${f.fromLine}) has ${f.final?.runs ?? 0} RUN step(s), the first at line ${f.runLine}; they execute under emulation (QEMU) for every non-native platform: keep them few, or move the work into a --platform=$BUILDPLATFORM stage and COPY the result.`
  }
};

/** What a final-stage-emulated finding adds once the run knows which of its platforms are emulated (plan/check.ts). */
export const emulatedHere = (platforms: string[]): string => ` Emulated here: ${platforms.join(', ')}.`;
