// Rows f, g, h: a release as the action publishes it, on the classic image store (GitHub's
// ubuntu-latest), one Go server image (fixtures/go-app), linux/amd64,linux/arm64,linux/arm/v7.
// f: the action vs Docker's test-before-push recipe, cold, no cache, a new docker-container builder
// created and removed on both sides (the action's post runs as on a GitHub-hosted runner, which
// leaves the builder, and the bench then removes it as a self-hosted post would: that time counts);
// and post's own time on a hosted runner. g: the same run vs the host compile floor. h: a second
// release (new version, same code) of a Dockerfile without cache mounts vs the first, with the gha
// cache (the local stand-in, protocol v2) and a new builder each time.
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startCacheServer } from '../../__tests__/support/gha-cache-server.js';
import { phaseDetails, phaseSeconds, runAction, type ActionRun } from './action.js';
import {
  BASE_IMAGE,
  CLASSIC,
  details,
  FIXTURE,
  GO_IMAGE,
  median,
  must,
  note,
  ratio,
  REGISTRY,
  REGISTRY_PASSWORD,
  REGISTRY_USER,
  row,
  ROUNDS,
  ROWS,
  s,
  work
} from './harness.js';
import { dockerRecipe, hostCompile, RELEASE_PLATFORMS, type Timed } from './recipe.js';

const release = (name: string, extra: Record<string, string>): Record<string, string> => ({
  images: `- name: ${name}\n  smoke: ["--version"]`,
  platforms: RELEASE_PLATFORMS.join(','),
  'build-args': `GO_IMAGE=${GO_IMAGE}\nBASE_IMAGE=${BASE_IMAGE}`,
  ...extra
});

const met = (ok: boolean): string => (ok ? 'met' : 'not met');

/** The action's release, cold, pushed, post as on a hosted runner, then its builder removed (timed). */
async function actionRelease(repo: string): Promise<{ run: ActionRun; removal: number; total: number }> {
  const inputs = release(repo, { cache: 'none', registry: REGISTRY, username: REGISTRY_USER, password: REGISTRY_PASSWORD });
  const r = await runAction(inputs, FIXTURE, { ...CLASSIC, RUNNER_ENVIRONMENT: 'github-hosted' });
  let removal = 0;
  for (const b of r.builders)
    removal += (await must('docker', ['buildx', 'rm', '--force', b], { env: { ...process.env, ...CLASSIC } })).seconds;
  return { run: r, removal, total: r.mainSeconds + r.postSeconds + removal };
}

const stepLines = (label: string, t: Timed): string =>
  `${label}: ${Object.entries(t.steps)
    .map(([k, v]) => `${k} ${s(v)}`)
    .join(', ')}; total ${s(t.total)}`;

export async function rowsFG(): Promise<void> {
  const recipes: Timed[] = [];
  const floors: Timed[] = [];
  const actions: Awaited<ReturnType<typeof actionRelease>>[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const id = `${Date.now().toString(36)}-${round}`;
    note(`f: round ${round}/${ROUNDS}: Docker's recipe, cold`);
    recipes.push(await dockerRecipe(`${REGISTRY}/bench/recipe-${id}`));
    note(`f: round ${round}/${ROUNDS}: the action, cold`);
    actions.push(await actionRelease(`${REGISTRY}/bench/action-${id}`));
    if (ROWS.has('g')) {
      note(`g: round ${round}/${ROUNDS}: host go build of ${RELEASE_PLATFORMS.length} targets, empty GOCACHE each`);
      floors.push(await hostCompile());
    }
  }
  const action = median(actions.map((a) => a.total));
  const recipe = median(recipes.map((r) => r.total));
  const post = median(actions.map((a) => a.run.postSeconds));
  const rounds = ROUNDS > 1 ? `, median of ${ROUNDS} rounds` : '';
  if (ROWS.has('f')) {
    row(
      'f',
      `one Go server image, ${RELEASE_PLATFORMS.join(',')}, cold, no cache, new docker-container builder created and removed on both sides: the action (main + post + builder removal) vs Docker's test-before-push recipe${rounds} (target ≤ 1.00×: ${met(action <= recipe)})`,
      s(action),
      s(recipe),
      ratio(action, recipe)
    );
    row(
      'f',
      `post step on a GitHub-hosted runner (the builder left to the VM)${rounds} (target ≤ 1 s: ${met(post <= 1)})`,
      s(post),
      '',
      ''
    );
  }
  if (ROWS.has('g') && floors.length) {
    const floor = median(floors.map((f) => f.total));
    row(
      'g',
      `the same action run vs the host compile floor (go build of the ${RELEASE_PLATFORMS.length} targets, each with an empty GOCACHE)${rounds} (target ≤ 1.30×: ${met(action <= 1.3 * floor)})`,
      s(action),
      s(floor),
      ratio(action, floor)
    );
    details.push('', ...floors.map((f, i) => stepLines(`g: host compile, round ${i + 1}`, f)));
  }
  details.push('', ...recipes.map((r, i) => stepLines(`f: Docker's recipe, round ${i + 1}`, r)));
  actions.forEach((a, i) => {
    details.push(
      ...phaseDetails(`f: the action, round ${i + 1}`, a.run),
      `| (builder removal, as a self-hosted post does it) | | ${s(a.removal)} |`
    );
  });
}

/** fixtures/go-app with its Dockerfile's Go cache mounts taken out (as the seed project's and most users' Dockerfiles are). */
function workspaceWithoutCacheMounts(): string {
  const ws = mkdtempSync(join(work, 'nomounts-'));
  cpSync(FIXTURE, ws, { recursive: true });
  const file = join(ws, 'Dockerfile');
  const text = readFileSync(file, 'utf8').replace(/--mount=type=cache,target=\S+ \\\n\s*/g, '');
  if (text.includes('--mount=type=cache')) throw new Error(`could not take the cache mounts out of ${file}`);
  writeFileSync(file, text);
  return ws;
}

export async function rowH(): Promise<void> {
  const cache = await startCacheServer();
  try {
    const ws = workspaceWithoutCacheMounts();
    const name = `${REGISTRY}/bench/relink-${Date.now().toString(36)}`;
    const env = { ...cache.env('v2'), ...CLASSIC };
    const runs: ActionRun[] = [];
    for (const version of ['v2.3.1', 'v2.3.2']) {
      note(`h: release ${version} of a Dockerfile without cache mounts, gha cache, new builder`);
      runs.push(await runAction(release(name, { cache: 'gha', push: 'false', version }), ws, env));
    }
    const [first, second] = runs.map((r) => phaseSeconds(r, `build ${name}`)) as [number, number];
    row(
      'h',
      `second release (new version, same code) of a Dockerfile without cache mounts, gha cache, new builder: its build vs the first release's (target ≤ 0.20×: ${met(second <= 0.2 * first)})`,
      s(second),
      s(first),
      ratio(second, first)
    );
    runs.forEach((r, i) => details.push(...phaseDetails(`h: release ${i + 1} (Go cache: ${r.goCache})`, r)));
  } finally {
    await cache.close();
  }
}
