// Rows a, d, e: what the fixture's Dockerfiles cost on the default builder (the containerd image
// store, which builds and loads several platforms with the docker driver): Go compiled under QEMU
// vs cross-compiled (a), an image's size vs the Go binary in it (d), eight platforms vs one (e).
import { createReadStream, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createGunzip } from 'node:zlib';
import { buildx, bytes, docker, FIXTURE, must, note, prune, ratio, row, run, s, signed, work } from './harness.js';

const ALL_PLATFORMS = [
  'linux/amd64',
  'linux/arm64',
  'linux/arm/v7',
  'linux/arm/v6',
  'linux/386',
  'linux/ppc64le',
  'linux/s390x',
  'linux/riscv64'
];

/** The images rows a, d, e tag (removed at the end). */
export const IMAGE_TAGS = ['cross:arm64', 'qemu:arm64', 'cross:riscv64', 'qemu:riscv64', 'all:8', 'all:1', 'web:amd64', 'server:amd64'].map(
  (t) => `gdp-bench/${t}`
);

export async function rowA(): Promise<void> {
  const qemuArgs = process.env.BENCH_GOMAXPROCS ? ['--build-arg', `GOMAXPROCS=${process.env.BENCH_GOMAXPROCS}`] : [];
  for (const platform of ['linux/arm64', 'linux/riscv64']) {
    const arch = platform.split('/')[1] ?? platform;
    await prune();
    note(`a: ${platform}, cross-compiled (Dockerfile), cold`);
    const cross = await buildx([platform], 'Dockerfile', `gdp-bench/cross:${arch}`, FIXTURE);
    await prune();
    note(`a: ${platform}, compiled under QEMU (Dockerfile.qemu), cold`);
    const qemu = await buildx([platform], 'Dockerfile.qemu', `gdp-bench/qemu:${arch}`, FIXTURE, qemuArgs);
    for (const img of [`gdp-bench/cross:${arch}`, `gdp-bench/qemu:${arch}`]) {
      const v = await docker(['run', '--rm', `--platform=${platform}`, '--pull=never', img, '--version']);
      if (!v.out.includes(platform)) throw new Error(`${img} does not run as ${platform}: ${v.out}`);
    }
    row(
      'a',
      `${platform} image, cold build: Go compiled under QEMU vs cross-compiled`,
      s(qemu.seconds),
      s(cross.seconds),
      ratio(qemu.seconds, cross.seconds)
    );
  }
}

export async function rowE(): Promise<void> {
  await prune();
  note(`e: ${ALL_PLATFORMS.length} platforms, cold`);
  const all = await buildx(ALL_PLATFORMS, 'Dockerfile', 'gdp-bench/all:8', FIXTURE);
  await prune();
  note('e: linux/amd64 only, cold');
  const one = await buildx(['linux/amd64'], 'Dockerfile', 'gdp-bench/all:1', FIXTURE);
  row(
    'e',
    `cold cross-compiled build (Dockerfile): ${ALL_PLATFORMS.length} platforms vs linux/amd64 only`,
    s(all.seconds),
    s(one.seconds),
    ratio(all.seconds, one.seconds)
  );
}

/** Compressed (as stored and pushed) and uncompressed sizes of a single-platform image's layers. */
async function imageSizes(ref: string): Promise<{ inspect: number; compressed: number; uncompressed: number }> {
  const inspect = Number((await docker(['image', 'inspect', '--format', '{{.Size}}', ref])).out.trim());
  const dir = mkdtempSync(join(work, 'save-'));
  await docker(['save', '--output', join(dir, 'image.tar'), ref]);
  await must('tar', ['-x', '-C', dir, '-f', join(dir, 'image.tar')]);
  const blob = (digest: string): string => join(dir, 'blobs', ...digest.split(':'));
  type Desc = { digest: string; size: number; mediaType: string };
  let m = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as { manifests?: Desc[]; layers?: Desc[]; config?: Desc };
  while (m.manifests) m = JSON.parse(readFileSync(blob(m.manifests[0]?.digest ?? ''), 'utf8')) as typeof m;
  let compressed = m.config?.size ?? 0;
  let uncompressed = 0;
  for (const l of m.layers ?? []) {
    compressed += l.size;
    uncompressed += await new Promise<number>((resolve, reject) => {
      let n = 0;
      const src = createReadStream(blob(l.digest));
      const stream = /gzip/.test(l.mediaType) ? src.pipe(createGunzip()) : src;
      stream.on('data', (d: Buffer) => (n += d.length));
      stream.on('end', () => resolve(n));
      stream.on('error', reject);
    });
  }
  rmSync(dir, { recursive: true, force: true });
  return { inspect, compressed, uncompressed };
}

async function binarySize(ref: string, path: string): Promise<number> {
  const id = (await docker(['create', '--platform=linux/amd64', '--pull=never', ref])).out.trim().split('\n').pop() ?? '';
  const dest = join(work, `bin-${id.slice(0, 12)}`);
  try {
    await docker(['cp', `${id}:${path}`, dest]);
    return statSync(dest).size;
  } finally {
    await run('docker', ['rm', id]);
    rmSync(dest, { force: true });
  }
}

export async function rowD(): Promise<void> {
  note('d: image size vs the Go binary in it (linux/amd64)');
  const cases = [
    { what: 'scratch image (Dockerfile.web, /panel)', dockerfile: 'Dockerfile.web', tag: 'gdp-bench/web:amd64', path: '/panel' },
    { what: 'busybox image (Dockerfile, server)', dockerfile: 'Dockerfile', tag: 'gdp-bench/server:amd64', path: '/usr/local/bin/server' }
  ];
  for (const c of cases) {
    await buildx(['linux/amd64'], c.dockerfile, c.tag, FIXTURE);
    const size = await imageSizes(c.tag);
    const bin = await binarySize(c.tag, c.path);
    row(
      'd',
      `${c.what}: image compressed (docker image inspect Size) vs binary`,
      bytes(size.inspect),
      bytes(bin),
      signed(size.inspect - bin)
    );
    row('d', `${c.what}: image layers uncompressed vs binary`, bytes(size.uncompressed), bytes(bin), signed(size.uncompressed - bin));
  }
}
