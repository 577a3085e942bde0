import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { buildxBuildArgs } from '../../src/plan/commands.js';
import type { Plan, PlannedImage } from '../../src/plan/types.js';
import { splitPlatforms, setupNodes } from '../../src/run/nodes.js';
import { containerdName, layoutIndex, mergeManifests, OCI_INDEX, writeTar, type Descriptor } from '../../src/run/oci-layout.js';
import { FakeRunner } from '../support/fake-runner.js';

const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const d = (digest: string, arch?: string, os = 'linux'): Descriptor => ({
  mediaType: MANIFEST,
  digest,
  size: 100,
  ...(arch ? { platform: { os, architecture: arch } } : {})
});

describe('which platforms build where', () => {
  const arm = { context: 'c0', endpoint: 'ssh://b@arm', platforms: ['linux/arm64', 'linux/arm/v7'] };
  const rv = { context: 'c1', endpoint: 'ssh://b@rv', platforms: ['linux/riscv64'] };

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

  it('a node is a Docker context in the action’s config; an engine that does not answer fails naming the endpoint', async () => {
    const ok = new FakeRunner((a) => (a[1] === 'version' ? { stdout: '26.1.5 amd64\n' } : {}));
    const nodes = await setupNodes([{ endpoint: 'ssh://b@arm:2222', platforms: ['linux/arm64'] }], ok, '7-1');
    expect(ok.calls[0]).toEqual(['context', 'create', 'gdp-node-7-1-0', '--docker=host=ssh://b@arm:2222']);
    expect(nodes).toEqual([{ context: 'gdp-node-7-1-0', endpoint: 'ssh://b@arm:2222', platforms: ['linux/arm64'] }]);
    const down = new FakeRunner((a) =>
      a[1] === 'version' ? { exitCode: 1, stderr: 'ssh: connect to host arm port 22: Connection refused' } : {}
    );
    await expect(setupNodes([{ endpoint: 'ssh://b@arm', platforms: ['linux/arm64'] }], down, '1')).rejects.toThrow(
      /builder-endpoints\[0\]: cannot reach the Docker engine at ssh:\/\/b@arm: ssh: connect to host arm port 22: Connection refused/
    );
  });

  it('a node’s part exports an OCI layout, names its context’s builder (BUILDX_BUILDER must not win), no provenance', () => {
    const img = { refs: ['r:1'], labels: {}, buildArgs: {}, dockerfile: 'Dockerfile', context: '.' } as unknown as PlannedImage;
    const args = buildxBuildArgs(img, {
      builder: 'c0',
      platforms: ['linux/arm64'],
      cacheFrom: [],
      cacheTo: [],
      metadataFile: 'm',
      output: { oci: '/t/p' }
    });
    expect(args).toContain('--builder=c0');
    expect(args).toEqual(expect.arrayContaining(['--output=type=oci,dest=/t/p,tar=false', '--provenance=false', '--platform=linux/arm64']));
    expect(args).not.toContain('--load');
  });
});

describe('the dry run of a split build', () => {
  it('prints the context, each part’s build where it runs, and the load', async () => {
    const { plannedCommands } = await import('../../src/main.js');
    const img = {
      name: 'ghcr.io/o/a',
      refs: ['ghcr.io/o/a:v1'],
      labels: {},
      buildArgs: {},
      dockerfile: 'Dockerfile',
      context: '.',
      platforms: ['linux/amd64', 'linux/arm64'],
      smoke: { enabled: false },
      cacheScope: 'a'
    } as unknown as PlannedImage;
    const plan = {
      images: [img],
      push: false,
      registries: [],
      cache: 'gha',
      smokePlatforms: 'native',
      builderEndpoints: [{ endpoint: 'ssh://b@arm', platforms: ['linux/arm64'] }]
    } as unknown as Plan;
    const cmds = plannedCommands(plan).map((c) => c.join(' '));
    expect(cmds[0]).toBe('context create gdp-node-<run>-0 --docker=host=ssh://b@arm');
    expect(cmds[1]).toMatch(
      /^buildx build --progress=plain --builder=<builder> --platform=linux\/amd64 .*--cache-to=type=gha.*--output=type=oci,dest=<tmp>\/oci-0\/part-0,tar=false/
    );
    expect(cmds[2]).toMatch(
      /^--context=gdp-node-<run>-0 buildx build --progress=plain --builder=gdp-node-<run>-0 --platform=linux\/arm64 /
    );
    expect(cmds[2]).not.toContain('--cache-to');
    expect(cmds[3]).toBe('load --input=<tmp>/oci-0/image.tar');
  });
});

describe('merging OCI layouts', () => {
  it('one index of every platform manifest; an index entry (provenance) contributes its children', () => {
    const att: Descriptor = { ...d('sha256:a2', 'unknown', 'unknown'), annotations: { 'vnd.docker.reference.digest': 'sha256:a1' } };
    att.platform = { os: 'unknown', architecture: 'unknown' };
    const merged = mergeManifests([d('sha256:x1', 'amd64'), { mediaType: OCI_INDEX, digest: 'sha256:i', size: 9 }], () => [
      d('sha256:a1', 'arm64'),
      att
    ]);
    expect(merged.map((m) => [m.digest, m.platform?.architecture])).toEqual([
      ['sha256:x1', 'amd64'],
      ['sha256:a1', 'arm64'],
      ['sha256:a2', 'unknown']
    ]);
    expect(merged[2]?.annotations).toEqual({ 'vnd.docker.reference.digest': 'sha256:a1' });
  });

  it('one layout naming its manifest once per tag (BuildKit >= 0.20, Docker 28) counts it once', () => {
    const tagged = (tag: string): Descriptor => ({ ...d('sha256:m', 'amd64'), annotations: { 'org.opencontainers.image.ref.name': tag } });
    const merged = mergeManifests([tagged('v2.3.1'), tagged('latest'), d('sha256:n', 'arm64')], () => []);
    expect(merged.map((m) => [m.digest, m.platform?.architecture])).toEqual([
      ['sha256:m', 'amd64'],
      ['sha256:n', 'arm64']
    ]);
  });

  it('a platform built by two nodes is an error', () => {
    expect(() => mergeManifests([d('sha256:1', 'arm64'), d('sha256:2', 'arm64')], () => [])).toThrow(/linux\/arm64 was built by two nodes/);
  });

  it('index.json names the image under every ref, as containerd spells names', () => {
    expect(containerdName('localhost:5151/x/y:t')).toBe('localhost:5151/x/y:t');
    expect(containerdName('org/app:1')).toBe('docker.io/org/app:1');
    expect(containerdName('app:1')).toBe('docker.io/library/app:1');
    const idx = JSON.parse(layoutIndex('sha256:i', 42, ['ghcr.io/o/a:v1', 'o/a:latest'])) as { manifests: Descriptor[] };
    expect(idx.manifests.map((m) => [m.digest, m.size, m.annotations])).toEqual([
      ['sha256:i', 42, { 'io.containerd.image.name': 'ghcr.io/o/a:v1', 'org.opencontainers.image.ref.name': 'v1' }],
      ['sha256:i', 42, { 'io.containerd.image.name': 'docker.io/o/a:latest', 'org.opencontainers.image.ref.name': 'latest' }]
    ]);
  });

  it('writes a tar that tar(1) reads back, names, sizes and contents', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gdp-tar-'));
    mkdirSync(join(dir, 'blobs/sha256'), { recursive: true });
    writeFileSync(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    writeFileSync(join(dir, `blobs/sha256/${'a'.repeat(64)}`), Buffer.alloc(1500, 7));
    const file = join(dir, '..', `${dir.split('/').pop() ?? 'x'}.tar`);
    writeTar(dir, file);
    const list = execFileSync('tar', ['-tvf', file], { encoding: 'utf8' });
    expect(list).toMatch(new RegExp(`1500 .* blobs/sha256/${'a'.repeat(64)}`));
    expect(list).toMatch(/30 .* oci-layout/);
    expect(execFileSync('tar', ['-xOf', file, 'oci-layout'], { encoding: 'utf8' })).toBe('{"imageLayoutVersion":"1.0.0"}');
  });
});
