// Build nodes (builder-endpoints): which platforms of an image build where, a node's Docker
// context and builder (named the same in every run), a node's part of the build, and the commands
// a run with a node records.
import { describe, expect, it } from '@jest/globals';
import type { Plan, PlannedImage } from '../../src/plan/types.js';
import { partArgs } from '../../src/plan/commands/build.js';
import { recordedCommands } from '../support/dry-run.js';
import { nodeContexts, splitPlatforms } from '../../src/plan/parts.js';
import { setupNodes } from '../../src/run/nodes.js';
import { FakeRunner } from '../support/fake-runner.js';

describe('which platforms build where', () => {
  const arm = { context: 'c0', builder: 'b0', endpoint: 'ssh://b@arm', platforms: ['linux/arm64', 'linux/arm/v7'] };
  const rv = { context: 'c1', builder: 'b1', endpoint: 'ssh://b@rv', platforms: ['linux/riscv64'] };

  it.each([
    [['linux/amd64'], [], [[undefined, ['linux/amd64']]]],
    [
      ['linux/amd64', 'linux/arm64', 'linux/riscv64'],
      [arm, rv],
      [
        [undefined, ['linux/amd64']],
        ['c0', ['linux/arm64']],
        ['c1', ['linux/riscv64']]
      ]
    ],
    [['linux/arm64', 'linux/arm/v7'], [arm, rv], [['c0', ['linux/arm64', 'linux/arm/v7']]]]
  ])('%j with %#: the runner part first, only non-empty parts', (platforms, nodes, want) => {
    expect(splitPlatforms(platforms, nodes).map((p) => [p.node?.context, p.platforms])).toEqual(want);
  });

  it('a node is a Docker context in the action’s config with a docker-container builder of its own; an engine that does not answer fails naming the endpoint', async () => {
    const ok = new FakeRunner((a) => (a[1] === 'version' ? { stdout: '28.5.2 amd64\n' } : {}));
    const builders: string[] = [];
    const nodes = await setupNodes([{ endpoint: 'ssh://b@arm:2222', platforms: ['linux/arm64'] }], ok, (b) => builders.push(b));
    const [node] = nodeContexts([{ endpoint: 'ssh://b@arm:2222', platforms: ['linux/arm64'] }]);
    const name = node?.context ?? '';
    // One name per endpoint, the same in every run: the node's builder state serves the next run.
    expect(name).toBe('gdp-node-c7da0d9a5c20');
    expect(node?.builder).toBe('gdp-node-builder-c7da0d9a5c20');
    expect(nodeContexts([{ endpoint: 'ssh://b@other', platforms: [] }])[0]?.context).not.toBe(name);
    expect(ok.calls[0]).toEqual(['context', 'create', name, '--docker=host=ssh://b@arm:2222']);
    expect(ok.calls[2]).toEqual([
      'buildx',
      'create',
      `--name=${node?.builder ?? ''}`,
      '--driver=docker-container',
      '--driver-opt=network=host',
      '--bootstrap',
      name
    ]);
    expect(builders).toEqual([node?.builder]);
    expect(nodes).toEqual([node]);
    const down = new FakeRunner((a) =>
      a[1] === 'version' ? { exitCode: 1, stderr: 'ssh: connect to host arm port 22: Connection refused' } : {}
    );
    await expect(setupNodes([{ endpoint: 'ssh://b@arm', platforms: ['linux/arm64'] }], down)).rejects.toThrow(
      /builder-endpoints\[0\]: cannot reach the Docker engine at ssh:\/\/b@arm: ssh: connect to host arm port 22: Connection refused/
    );
  });

  it('a node’s builder held by another job on this machine (matrix jobs sharing a buildx config): this job makes one of its own, which post removes whole', async () => {
    const taken = new FakeRunner((a) =>
      a[1] === 'version'
        ? { stdout: '28.5.2 amd64\n' }
        : a[0] === 'buildx' && a[1] === 'create' && !a[2]?.endsWith('-42-1-abcd')
          ? { exitCode: 1, stderr: 'ERROR: existing instance for "gdp-node-builder-x" but no append mode' }
          : {}
    );
    const kept: string[] = [];
    const own: string[] = [];
    const [node] = await setupNodes([{ endpoint: 'ssh://b@arm', platforms: ['linux/arm64'] }], taken, (b) => kept.push(b), {
      instance: '42-1-abcd',
      ownBuilder: (b) => own.push(b)
    });
    const shared = nodeContexts([{ endpoint: 'ssh://b@arm', platforms: [] }])[0]?.builder ?? '';
    expect(node?.builder).toBe(`${shared}-42-1-abcd`);
    expect(own).toEqual([`${shared}-42-1-abcd`]);
    // Post never removes the other job's builder.
    expect(kept).toEqual([]);
    // Any other failure to create is this job's: post removes it, and the run fails.
    const broken = new FakeRunner((a) =>
      a[1] === 'version'
        ? { stdout: '28.5.2 amd64\n' }
        : a[0] === 'buildx' && a[1] === 'create'
          ? { exitCode: 1, stderr: 'ERROR: no space' }
          : {}
    );
    await expect(
      setupNodes([{ endpoint: 'ssh://b@arm', platforms: ['linux/arm64'] }], broken, (b) => kept.push(b), { instance: 'i' })
    ).rejects.toThrow(/no space/);
    expect(kept).toEqual([shared]);
  });

  it('a node’s part runs in its context and names its builder (BUILDX_BUILDER must not win), without the runner’s gha cache', () => {
    const img = {
      refs: ['r:1'],
      labels: {},
      buildArgs: {},
      dockerfile: 'Dockerfile',
      context: '.',
      cacheScope: 's'
    } as unknown as PlannedImage;
    const plan = { cache: 'gha' } as unknown as Plan;
    const node = { context: 'c0', builder: 'b0', endpoint: 'ssh://b@arm', platforms: ['linux/arm64'] };
    const args = partArgs(plan, img, { node, platforms: ['linux/arm64'] }, 'runner-b', { type: 'cacheonly' }, 'm', true);
    expect(args.slice(0, 5)).toEqual(['--context=c0', 'buildx', 'build', '--progress=plain', '--builder=b0']);
    expect(args).toEqual(expect.arrayContaining(['--output=type=cacheonly', '--platform=linux/arm64']));
    expect(args.some((a) => a.startsWith('--cache-'))).toBe(false);
    const runnerPart = partArgs(plan, img, { platforms: ['linux/amd64'] }, 'runner-b', { type: 'cacheonly' }, 'm', true);
    expect(runnerPart).toEqual(expect.arrayContaining(['--builder=runner-b', '--cache-from=type=gha,scope=s']));
    expect(runnerPart.filter((a) => a.startsWith('--cache-to='))).toHaveLength(1);
    // The build beside a load (some platforms only) reads the layer cache and does not save it.
    const beside = partArgs(plan, img, { platforms: ['linux/arm64'] }, 'runner-b', { type: 'cacheonly', saveCache: false }, 'm', true);
    expect(beside).toEqual(expect.arrayContaining(['--cache-from=type=gha,scope=s', '--output=type=cacheonly']));
    expect(beside.some((a) => a.startsWith('--cache-to'))).toBe(false);
  });
});

describe('the dry run of a split build', () => {
  it('records the context and its builder, the runner’s tested platform built by its load first, each part’s build where it runs, the load of a node’s platform, and one tag from both parts', async () => {
    const img = {
      name: 'ghcr.io/o/a',
      repositories: ['ghcr.io/o/a'],
      refs: ['ghcr.io/o/a:v1'],
      labels: {},
      buildArgs: { SOURCE_DATE_EPOCH: '1700000000' },
      dockerfile: 'Dockerfile',
      context: '.',
      platforms: ['linux/amd64', 'linux/arm64'],
      smoke: { enabled: true, args: [], env: {}, timeoutSeconds: 5, wait: { kind: 'up', seconds: 2.5 } },
      cacheScope: 'a'
    } as unknown as PlannedImage;
    const plan = {
      images: [img],
      push: true,
      registries: [],
      release: { tags: ['v1'], version: 'v1' },
      cache: 'gha',
      qemu: 'false',
      builder: 'auto',
      goCache: 'false',
      smokePlatforms: 'all',
      builderEndpoints: [{ endpoint: 'ssh://b@arm', platforms: ['linux/arm64'] }],
      mode: 'publish',
      sign: { mode: 'false' },
      attest: { smoke: false, github: false },
      provenance: 'min',
      sbom: false
    } as unknown as Plan;
    const { calls, result } = await recordedCommands(plan, { env: { ghaCache: { protocol: 'v2', reason: 'test' } } });
    expect(result.error).toBeUndefined();
    // The commands that change something, in order (reads left out).
    const cmds = calls
      .map((c) => c.join(' '))
      .filter((c) => !/^(buildx inspect|buildx imagetools inspect|image inspect|--context=\S+ version)/.test(c));
    // The endpoint's context and builder, named the same in every run.
    const node = 'gdp-node-ecba4b45712c';
    const nodeBuilder = 'gdp-node-builder-ecba4b45712c';
    expect(cmds[0]).toMatch(/^buildx create --name=go-docker-publish-42-1 --driver=docker-container /);
    expect(cmds[1]).toBe(`context create ${node} --docker=host=ssh://b@arm`);
    expect(cmds[2]).toMatch(new RegExp(`^buildx create --name=${nodeBuilder} --driver=docker-container .* ${node}$`));
    // The runner's tested platform first, built by its load (the layer cache read, not written).
    expect(cmds[3]).toMatch(
      /^buildx build --progress=plain --builder=go-docker-publish-42-1 --platform=linux\/amd64 .*--cache-from=type=gha.*--output=type=docker,name=ghcr.io\/o\/a:gdp-smoke-42-1,rewrite-timestamp=true/
    );
    expect(cmds[3]).not.toContain('--cache-to');
    expect(cmds[4]).toMatch(
      new RegExp(
        `^--context=${node} buildx build --progress=plain --builder=${nodeBuilder} --platform=linux/arm64 .*--output=type=cacheonly`
      )
    );
    expect(cmds[4]).not.toContain('--cache-to');
    expect(cmds[5]).toMatch(
      /^buildx build --progress=plain --builder=go-docker-publish-42-1 --platform=linux\/amd64 .*--cache-to=type=gha.*--output=type=cacheonly/
    );
    expect(cmds[6]).toMatch(/^run --detach --name=gdp-smoke-42-1-\w+ --platform=linux\/amd64 --pull=never ghcr.io\/o\/a:gdp-smoke-42-1$/);
    expect(cmds[7]).toMatch(/^rm --force --volumes gdp-smoke-42-1-\w+$/);
    expect(cmds[8]).toBe('image rm ghcr.io/o/a:gdp-smoke-42-1');
    expect(cmds[9]).toMatch(
      new RegExp(
        `^--context=${node} buildx build .*--platform=linux/arm64 .*--output=type=docker,name=ghcr.io/o/a:gdp-smoke-42-1,dest=\\S+/load-0-linux-arm64.tar,rewrite-timestamp=true --provenance=false`
      )
    );
    expect(cmds[10]).toMatch(/^load --input=\S+\/load-0-linux-arm64.tar$/);
    expect(cmds[11]).toMatch(/^run --detach --name=gdp-smoke-42-1-\w+ --platform=linux\/arm64 --pull=never ghcr.io\/o\/a:gdp-smoke-42-1$/);
    expect(cmds[12]).toMatch(/^rm --force --volumes gdp-smoke-42-1-\w+$/);
    expect(cmds[13]).toBe('image rm ghcr.io/o/a:gdp-smoke-42-1');
    expect(cmds[14]).toMatch(/^buildx build .*--platform=linux\/amd64 .*push-by-digest=true/);
    expect(cmds[15]).toMatch(new RegExp(`^--context=${node} buildx build .*push-by-digest=true`));
    expect(cmds.filter((c) => c.startsWith('buildx imagetools create --tag='))).toEqual([
      'buildx imagetools create --tag=ghcr.io/o/a:v1 ghcr.io/o/a@<digest-1> ghcr.io/o/a@<digest-2>'
    ]);
  });
});
