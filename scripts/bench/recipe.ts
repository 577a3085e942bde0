// What the action is measured against: Docker's documented test-before-push recipe (create a
// docker-container builder as setup-buildx does, log in, `build --load` the native platform,
// `docker run` it, `build --push` every platform, remove the builder as setup-buildx's post does),
// and the host compile floor (the bare `go build` of each target with an empty GOCACHE).
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { BASE_ARGS, CLASSIC, FIXTURE, must, REGISTRY, REGISTRY_PASSWORD, REGISTRY_USER, work } from './harness.js';

export const RELEASE_PLATFORMS = ['linux/amd64', 'linux/arm64', 'linux/arm/v7'];

/** Each step's wall time and the total, in seconds. */
export interface Timed {
  steps: Record<string, number>;
  total: number;
}

/** The recipe for one Go server image (fixtures/go-app's Dockerfile), pushed to `repo`, on the classic store. */
export async function dockerRecipe(repo: string): Promise<Timed> {
  const config = mkdtempSync(join(work, 'recipe-config-'));
  const env = { ...process.env, ...CLASSIC, DOCKER_CONFIG: config };
  const builder = `gdp-bench-recipe-${Date.now()}`;
  const docker = (args: string[], input?: string) => must('docker', args, { cwd: FIXTURE, env, input });
  const build = ['buildx', 'build', `--builder=${builder}`, ...BASE_ARGS, '--build-arg', 'VERSION=v2.3.1', '--file', 'Dockerfile'];
  const steps: Record<string, number> = {};
  const step = async (name: string, args: string[], input?: string): Promise<void> => {
    steps[name] = (await docker(args, input)).seconds;
  };
  try {
    await step('create builder', [
      'buildx',
      'create',
      `--name=${builder}`,
      '--driver=docker-container',
      '--driver-opt=network=host',
      '--bootstrap'
    ]);
    await step('login', ['login', `--username=${REGISTRY_USER}`, '--password-stdin', REGISTRY], REGISTRY_PASSWORD);
    await step('build --load (native)', [...build, '--platform=linux/amd64', '--load', `--tag=${repo}:test`, '.']);
    await step('docker run', ['run', '--rm', `${repo}:test`, '--version']);
    await step('build --push (all)', [...build, `--platform=${RELEASE_PLATFORMS.join(',')}`, '--push', `--tag=${repo}:v2.3.1`, '.']);
    await step('remove builder', ['buildx', 'rm', '--force', builder]);
  } finally {
    await must('docker', ['image', 'rm', `${repo}:test`], { env }).catch(() => undefined);
    rmSync(config, { recursive: true, force: true });
  }
  return { steps, total: Object.values(steps).reduce((a, b) => a + b, 0) };
}

/** `go build` on the host of the server for each release platform, one after another, each with an empty GOCACHE. */
export async function hostCompile(): Promise<Timed> {
  const steps: Record<string, number> = {};
  for (const platform of RELEASE_PLATFORMS) {
    const [, arch, variant] = platform.split('/');
    const cache = mkdtempSync(join(work, 'gocache-'));
    const env = {
      ...process.env,
      GOCACHE: cache,
      CGO_ENABLED: '0',
      GOOS: 'linux',
      GOARCH: arch ?? '',
      GOARM: variant?.replace('v', '') ?? '',
      GOFLAGS: '',
      GOTOOLCHAIN: 'local'
    };
    const out = join(work, `server-${arch}${variant ?? ''}`);
    const args = ['build', '-trimpath', '-ldflags', '-s -w -X main.version=v2.3.1', '-o', out, './cmd/server'];
    steps[platform] = (await must('go', args, { cwd: FIXTURE, env })).seconds;
    rmSync(cache, { recursive: true, force: true });
  }
  return { steps, total: Object.values(steps).reduce((a, b) => a + b, 0) };
}
