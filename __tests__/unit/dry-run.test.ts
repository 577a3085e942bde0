// The dry run is the pipeline: the same plan through the dry run's recording runner and through a
// real run's runner (a fake engine) gives the same commands, each image's in the same order (images
// build side by side), up to what the answers decide (digests, temporary paths, container names,
// and the reads that watch a running smoke test). And a dry run writes nothing: no hand-off record, no cache entry.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { readInputs } from '../../src/inputs/index.js';
import { BINFMT_IMAGE } from '../../src/plan/commands/containers.js';
import { buildPlan } from '../../src/plan/plan.js';
import type { CacheStore } from '../../src/run/actions-cache.js';
import { runPipeline } from '../../src/run/pipeline.js';
import { recordedCommands } from '../support/dry-run.js';
import { DIGEST, platformEngine, pushingEngine } from '../support/fake-engine.js';
import { FakeRunner } from '../support/fake-runner.js';
import { ctxFor, SHA } from '../support/plan-inputs.js';

const KEY = '-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\neyJrZGYiOnt9fQ==\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----';

/** The README's complete workflow, with signing and a server smoke test. */
const README_INPUTS: Record<string, string> = {
  images: `
- names: [docker.io/example/tunnel, ghcr.io/example/tunnel]
  dockerfile: Dockerfile
  smoke: ["ls", "-la", "/usr/local/bin/server"]
- name: ghcr.io/example/tunnel-web
  dockerfile: Dockerfile.web
  smoke: { http: { port: 8080, path: /healthz } }
`,
  platforms: 'linux/amd64,linux/arm64,linux/arm/v7',
  'semver-tags': 'true',
  'build-args': 'GOPROXY=https://proxy.golang.org',
  registries: '- {registry: docker.io, username: bot, password: hub-token}\n- {registry: ghcr.io, username: bot, password: gh-token}',
  cache: 'gha',
  'go-cache': 'false',
  qemu: 'true',
  sign: 'key',
  'cosign-key': KEY,
  'transparency-log': 'false'
};

const plan = (over: Record<string, string> = {}) =>
  buildPlan(
    readInputs((n) => ({ ...README_INPUTS, ...over })[n] ?? ''),
    ctxFor('release-published'),
    'amd64'
  );

const engine = pushingEngine();

/** The runner's cache service, as github.com gives it: the layer cache's flags are in both command lists. */
const GHA_V2 = { protocol: 'v2', reason: 'the cache service v2' } as const;

/** A runner whose binfmt_misc has no interpreter registered: with qemu: true both runs install them. */
const NO_INTERPRETERS = (): undefined => undefined;

/** The commands with what the answers decide made equal. */
const normalized = (calls: string[][]): string[] =>
  calls
    .filter((c) => !['container', 'port', 'logs'].includes(c[0] ?? ''))
    .map((c) =>
      c
        .join(' ')
        .replace(/sha256:[0-9a-f]{64}|<digest-\d+>|<manifest-[\d.]+>|<index digest>|<image ID>|<[\w/]+ manifest digest>/g, '<D>')
        .replace(/\/[^\s=,]*gdp-(run|unit|dry)-[^/\s]+\//g, '<tmp>/')
        .replace(/gdp-smoke-[\w-]+/g, '<container>')
    );

/**
 * The normalized commands of each image (images build and push side by side, so only each
 * image's own order is the run's), and those of the run itself (login, builder), by image: its
 * files, its refs, its smoke containers.
 */
function perImage(calls: string[][]): Record<string, string[]> {
  const containers = new Map<string, string>();
  const owner = (c: string[]): string => {
    const file = c.map((a) => /\/(?:build|load|push)-(\d+)-/.exec(a)?.[1]).find((n) => n !== undefined);
    if (file !== undefined) return file;
    const line = c.join(' ');
    const image = /example\/tunnel-web\b/.test(line) ? '1' : /example\/tunnel\b/.test(line) ? '0' : undefined;
    const name = c.find((a) => a.startsWith('--name='))?.slice('--name='.length);
    if (c[0] === 'run' && name && image) containers.set(name, image);
    return image ?? [...containers.entries()].find(([k]) => c.includes(k))?.[1] ?? 'run';
  };
  const out: Record<string, string[]> = {};
  for (const c of calls) {
    const [line] = normalized([c]);
    if (line !== undefined) (out[owner(c)] ??= []).push(line);
  }
  return out;
}

describe('the dry run is the pipeline', () => {
  it('records the same commands as a real run of the same plan, each image’s in the same order (up to the answers)', async () => {
    const real = new FakeRunner(engine);
    const res = await runPipeline(
      plan(),
      real,
      { loggedIn: () => undefined, builderCreated: () => undefined },
      {
        runId: '42-1',
        ghaCache: GHA_V2,
        tempDir: mkdtempSync(join(tmpdir(), 'gdp-unit-')),
        parallelism: 2,
        binfmt: NO_INTERPRETERS,
        smokeProbe: {
          now: (() => {
            let t = 0;
            return () => (t += 1000);
          })(),
          sleep: async () => undefined,
          httpStatus: async () => 200
        }
      }
    );
    expect(res.error).toBeUndefined();
    const dry = await recordedCommands(plan(), { reads: engine, env: { parallelism: 2, ghaCache: GHA_V2, binfmt: NO_INTERPRETERS } });
    expect(dry.result.error).toBeUndefined();
    const [realCommands, dryCommands] = [perImage(real.calls), perImage(dry.calls)];
    expect(Object.keys(dryCommands).sort()).toEqual(['0', '1', 'run']);
    expect(dryCommands).toEqual(realCommands);
    // Every phase is there: login, QEMU's binfmt install, builder, build, load, smoke run, push by digest, the check's
    // reads, the tags' dry run and tags, and the signatures.
    const kinds = new Set(normalized(dry.calls).map((c) => c.split(' ').slice(0, 3).join(' ')));
    for (const k of [
      'login --username=bot --password-stdin',
      'run --privileged --rm',
      'buildx inspect',
      'buildx build --progress=plain',
      'image inspect --format={{.Id}}',
      'run --detach --name=<container>',
      'rm --force --volumes',
      'buildx imagetools inspect',
      'buildx imagetools create',
      'cosign sign --yes'
    ])
      expect([k, [...kinds].some((c) => c.startsWith(k))]).toEqual([k, true]);
    // QEMU for the platforms the Dockerfiles run steps of (qemu: true: every other platform), before the builder.
    expect(normalized(dry.calls).slice(0, 3)).toEqual([
      'login --username=bot --password-stdin docker.io',
      'login --username=bot --password-stdin ghcr.io',
      `run --privileged --rm ${BINFMT_IMAGE} --install=arm64,arm`
    ]);
    // The layer cache through the runner's cache service: every build but the pushes (which find
    // the builder's own cache) reads it; each image's build of all its platforms saves it.
    const builds = normalized(dry.calls).filter((c) => c.startsWith('buildx build'));
    const pushes = builds.filter((c) => c.includes('push-by-digest=true'));
    expect(pushes).toHaveLength(2);
    expect(builds.filter((c) => !pushes.includes(c)).every((c) => c.includes('--cache-from=type=gha,scope='))).toBe(true);
    expect(builds.filter((c) => c.includes('--cache-to=type=gha,mode=max,')).map((c) => /--file=(\S+)/.exec(c)?.[1])).toEqual([
      'Dockerfile',
      'Dockerfile.web'
    ]);
    // Every tag of an image, in both registries, in one call.
    const tags = ['docker.io', 'ghcr.io'].flatMap((r) =>
      ['v2.3.1', '2.3.1', '2.3', '2', 'latest'].map((t) => `--tag=${r}/example/tunnel:${t}`)
    );
    expect(normalized(dry.calls)).toContain(
      `buildx imagetools create --dry-run ${tags.join(' ')} ` +
        '--annotation=index:org.opencontainers.image.description=SSH tunnels in a container ' +
        '--annotation=index:org.opencontainers.image.source=https://github.com/example/tunnel --annotation=index:org.opencontainers.image.version=v2.3.1 ' +
        `--annotation=index:org.opencontainers.image.revision=${SHA} --annotation=index:org.opencontainers.image.licenses=MIT ` +
        // The floating tags the release takes by the tag rules (plan/converge.ts).
        '--annotation=index:io.github.go-docker-publish.floating=2.3 2 latest docker.io/example/tunnel@<D>'
    );
  });

  it('a platform run’s dry run pushes by digest, tags nothing and saves no hand-off record', async () => {
    const saved: string[] = [];
    const store: CacheStore = {
      available: () => true,
      restore: async () => undefined,
      save: async (_p, key) => (saved.push(key), { saved: true })
    };
    const { calls, result } = await recordedCommands(plan({ mode: 'platform', sign: 'false', 'cosign-key': '' }), { reads: engine, store });
    expect(result.error).toBeUndefined();
    expect(calls.some((c) => c.some((a) => a.includes('push-by-digest=true')))).toBe(true);
    expect(calls.filter((c) => c[1] === 'imagetools' && c[2] === 'create')).toEqual([]);
    expect(saved).toEqual([]);
  });

  it('a merge’s dry run reads the platform runs’ records and lists the tags made from their digests', async () => {
    const tunnel = plan({
      mode: 'merge',
      sign: 'false',
      'cosign-key': '',
      images: '- name: ghcr.io/example/tunnel',
      platforms: 'linux/amd64,linux/arm64'
    });
    const records: Record<string, string> = {
      'linux-amd64': DIGEST(1),
      'linux-arm64': DIGEST(2)
    };
    const { writeFileSync, mkdirSync } = await import('node:fs');
    const { homedir } = await import('node:os');
    const store: CacheStore = {
      available: () => true,
      restore: async (paths, key) => {
        const platform = Object.keys(records).find((p) => key.includes(`-${p}@`));
        if (!platform || paths[0] !== '~/.cache/go-docker-publish/handoff') return undefined;
        const dir = join(homedir(), '.cache/go-docker-publish/handoff');
        mkdirSync(dir, { recursive: true });
        const rec = {
          schema: 1,
          run: '42',
          sha: SHA,
          version: 'v2.3.1',
          platform: platform.replace('linux-', 'linux/'),
          images: [{ name: 'ghcr.io/example/tunnel', source: `ghcr.io/example/tunnel@${records[platform]}`, smoke: 'passed' }]
        };
        writeFileSync(join(dir, 'record.json'), JSON.stringify(rec));
        return `${key}1`;
      },
      save: async () => ({ saved: false, refusal: { kind: 'failed', detail: 'no' } })
    };
    const { calls, result } = await recordedCommands(tunnel, { reads: platformEngine('amd64'), store });
    expect(result.error).toBeUndefined();
    const tags = calls.filter((c) => c[2] === 'create' && c[3] !== '--dry-run');
    // The version tags in one call, then the floating tags in another.
    expect(tags.map((c) => c.filter((a) => a.startsWith('--tag=')))).toEqual([
      ['v2.3.1', '2.3.1'].map((t) => `--tag=ghcr.io/example/tunnel:${t}`),
      ['2.3', '2', 'latest'].map((t) => `--tag=ghcr.io/example/tunnel:${t}`)
    ]);
    expect(tags[0]?.slice(-2)).toEqual([`ghcr.io/example/tunnel@${DIGEST(1)}`, `ghcr.io/example/tunnel@${DIGEST(2)}`]);
    expect(calls.filter((c) => c[1] === 'build')).toEqual([]);
  });
});
