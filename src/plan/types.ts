// The typed contract between the pure half (inputs + event → Plan) and the half that runs docker.
import type { GoCacheMount } from './go-cache.js';

export type Tristate = 'auto' | 'true' | 'false';

/** What the workflow run tells us: the event payload and the runner's GITHUB_* variables. */
export interface EventContext {
  eventName: string; // GITHUB_EVENT_NAME: release, workflow_dispatch, push, pull_request, schedule, ...
  // The webhook payload (GITHUB_EVENT_PATH), as GitHub sends it.
  payload: Record<string, unknown>;
  ref: string; // GITHUB_REF, e.g. refs/tags/v1.2.3, refs/heads/main, refs/pull/42/merge
  sha: string; // GITHUB_SHA
  repository: string; // GITHUB_REPOSITORY, owner/name
  serverUrl: string; // GITHUB_SERVER_URL, https://github.com
  /** Commit time in seconds since the epoch (git log -1 --format=%ct), when known. */
  commitTime?: number;
}

/**
 * What a smoke test waits for:
 * - exit: a command the user gave (args or entrypoint) must exit 0;
 * - up: the image's own command passes by exiting 0, by a HEALTHCHECK reporting healthy, or by
 *   still running after `seconds` (a server);
 * - http: an HTTP GET of the container's port, published on loopback, answers `status`.
 */
export type SmokeWait = { kind: 'exit' } | { kind: 'up'; seconds: number } | { kind: 'http'; port: number; path: string; status: number };

export type SmokeSpec =
  | { enabled: false }
  | {
      enabled: true;
      args: string[];
      entrypoint?: string;
      env: Record<string, string>;
      expect?: string; // regular expression source, matched against stdout+stderr
      timeoutSeconds: number;
      wait: SmokeWait;
    };

export interface RegistryLogin {
  registry: string;
  username: string;
  password: string;
}

/** One entry of the `images` input, validated and with defaults filled in. */
export interface ImageInput {
  names: string[]; // repositories, possibly with a registry host; lowercased later by the plan
  dockerfile: string;
  context: string;
  target?: string;
  platforms?: string[];
  buildArgs: Record<string, string>;
  labels: Record<string, string>;
  smoke: SmokeSpec;
  cacheScope?: string;
}

/** Build secrets as the inputs give them (values only in `secrets`; never printed). */
export interface BuildSecretsInput {
  secrets: { id: string; value: string }[];
  envs: { id: string; env: string }[];
  files: { id: string; path: string }[];
  ssh: string[];
}

/** Private Go modules: GOPRIVATE patterns, the credentials for their host or proxy, the proxy. */
export interface GoPrivateInput {
  patterns: string[];
  token: string;
  username: string;
  proxy?: string;
}

export interface Inputs {
  images: ImageInput[];
  platforms: string[];
  version?: string;
  latest: Tristate;
  semverTags: boolean;
  registries: RegistryLogin[];
  push: Tristate;
  cache: 'gha' | 'registry' | 'none';
  qemu: Tristate;
  builder: 'auto' | 'docker' | 'docker-container';
  buildArgs: Record<string, string>;
  smokePlatforms: 'native' | 'all';
  dryRun: boolean;
  goCache: 'auto' | 'false';
  builderEndpoints: BuilderEndpoint[];
  /** publish: build, test and tag on this runner; platform: one runner of a matrix; merge: the job that tags. */
  mode: Mode;
  /** mode platform: the platforms this runner builds (default: those it runs natively). */
  buildPlatforms?: string[];
  /** Signing of each pushed index digest with cosign, after the tags are created. */
  sign: SignSpec;
  /** The smoke-test attestation and GitHub artifact attestations, after signing. */
  attest: AttestInput;
  /** BuildKit's provenance attestation on the pushed images. */
  provenance: 'min' | 'max' | 'false';
  /** An SBOM attestation (BuildKit's scanner image must be pulled). */
  sbom: boolean;
  buildSecrets: BuildSecretsInput;
  goPrivate?: GoPrivateInput;
}

export type SignSpec =
  { mode: 'false' } | { mode: 'keyless'; transparencyLog: true } | { mode: 'key'; key: string; password: string; transparencyLog: boolean };

/** attest, attest-smoke and github-token as read (attest-smoke resolved: auto is on when sign or attest is set). */
export interface AttestInput {
  smoke: boolean;
  github: boolean;
  /** The token the attestations API takes (github-token); only kept with attest: github. */
  token: string;
}

/**
 * What a run attests once the tags exist: the signed test-result statement of each image's smoke
 * tests (smoke: with cosign, in the sign mode; and through GitHub's attestations when github is
 * set), and GitHub artifact attestations (SLSA provenance + the test-result statement) made with
 * @actions/attest on the Sigstore instance GitHub would choose for the repository.
 */
export interface AttestSpec {
  smoke: boolean;
  github: false | { token: string; sigstore: 'public-good' | 'github' };
}

export type Mode = 'publish' | 'platform' | 'merge';

/** A remote Docker engine that builds some platforms natively (input builder-endpoints). */
export interface BuilderEndpoint {
  endpoint: string; // ssh://user@host[:port] or tcp://host:port
  platforms: string[];
}

/** What the version/tag rules work out from the event and inputs (src/plan/version.ts). */
export interface ReleaseInfo {
  /** The version as given (input, release tag, dispatch input, pushed tag); undefined without one. */
  version?: string;
  source: 'input' | 'release' | 'dispatch' | 'tag' | 'none';
  /** Tags (the part after ':'), in order: version tag, semver tags, latest; or branch/sha/pr tags. */
  tags: string[];
  stable: boolean;
  /** Whether `push: auto` pushes for this event. */
  pushByDefault: boolean;
  /** A pull request from a fork: never log in, never push. */
  fromFork: boolean;
  /** Notices for the log (a version changed to be a valid tag, ...). */
  notices: string[];
}

export interface PlannedImage {
  /** Display name: the first repository. */
  name: string;
  repositories: string[];
  /** Full references: every tag for every repository. */
  refs: string[];
  dockerfile: string;
  context: string;
  target?: string;
  platforms: string[];
  buildArgs: Record<string, string>;
  labels: Record<string, string>;
  /** On the index every tag names: the OCI annotations from the labels, and the floating tags the release takes (plan/converge.ts). */
  annotations: Record<string, string>;
  smoke: SmokeSpec;
  cacheScope: string;
  /** What the Dockerfile check found (src/plan/check.ts); absent in a plan made without reading it. */
  check?: DockerfileCheck;
  /** The Dockerfile the build reads when the Go cache mounts were added to a copy (run/derived-dockerfile.ts), and what was added on which line. */
  derived?: { file: string; added: { line: number; flags: string[] }[] };
}

/** What an image's Dockerfile means for the run: warnings, emulation, Go caches. */
export interface DockerfileCheck {
  findings: { line: number; severity: 'warning' | 'notice'; code: string; message: string }[];
  /** Platforms on which some RUN step of the build executes (only the build platform when it cross-compiles). */
  executes: string[];
  /** Platforms for which a Go compile runs under emulation. */
  goUnderEmulation: string[];
  /** Cache mounts of the stages built, and the image of the stage that mounts them. */
  goCache?: { baseImage: string; mounts: GoCacheMount[] };
}

export interface Plan {
  release: ReleaseInfo;
  images: PlannedImage[];
  push: boolean;
  pushReason: string;
  registries: RegistryLogin[];
  cache: Inputs['cache'];
  qemu: Inputs['qemu'];
  builder: Inputs['builder'];
  smokePlatforms: Inputs['smokePlatforms'];
  goCache: Inputs['goCache'];
  builderEndpoints: Inputs['builderEndpoints'];
  /** The latest input: `true` moves `latest` even backwards (floating.ts). */
  latest: Inputs['latest'];
  notices: string[];
  /**
   * publish, platform or merge. In platform mode the images hold only the platforms this runner
   * builds (an image with none is left out); `handoffScope` names this set of images (all of them,
   * whatever the runner builds) in the keys that carry the digests to the merge job.
   */
  mode: Mode;
  handoffScope: string;
  sign: SignSpec;
  attest: AttestSpec;
  provenance: Inputs['provenance'];
  sbom: boolean;
  /** The secrets every build gets: from a variable of the build's environment (secretEnv or the step's) or a file. */
  buildSecrets: BuildSecret[];
  /** `--ssh` of every build: default (SSH_AUTH_SOCK) or id=path. */
  ssh: string[];
  /** Values of the secrets buildx reads from its environment (variable → value): never an argv, never printed. */
  secretEnv: Record<string, string>;
  /** go-private: the hosts the netrc secret is for (the Dockerfile check asks for its mount). */
  goPrivate?: { patterns: string[]; hosts: string[]; proxy: boolean };
}

/** One build secret as buildx takes it: `--secret=id=ID,env=VAR` or `--secret=id=ID,src=FILE`. */
export type BuildSecret = { id: string; env: string; from: string } | { id: string; file: string; from: string };
