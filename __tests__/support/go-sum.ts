// The `h1:` hashes go.sum records (golang.org/x/mod/sumdb/dirhash Hash1), computed without Go, so
// a unit test proves that the module proxy's fixture zip and fixtures/go-private/go.sum agree:
// sha256 over the lines `<sha256 hex of the file>  <name>\n` of every file, sorted by name, in
// base64. For a module zip the names are the zip's (`<module>@<version>/...`); for the /go.mod
// line the one file is named go.mod. Reads only what Go module zips hold: stored or deflated
// entries, no zip64.
import { createHash } from 'node:crypto';
import { inflateRawSync } from 'node:zlib';

const sha256 = (data: Buffer | string): Buffer => createHash('sha256').update(data).digest();

/** Hash1 over named files. */
export function hash1(files: { name: string; data: Buffer }[]): string {
  const lines = [...files]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((f) => `${sha256(f.data).toString('hex')}  ${f.name}\n`)
    .join('');
  return `h1:${sha256(lines).toString('base64')}`;
}

/** The files of a zip (directory entries left out). */
export function zipFiles(zip: Buffer): { name: string; data: Buffer }[] {
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocd < 0) throw new Error('not a zip: no end of central directory');
  const count = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  const files: { name: string; data: Buffer }[] = [];
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error(`zip: bad central directory entry ${i}`);
    const method = zip.readUInt16LE(at + 10);
    const size = zip.readUInt32LE(at + 20);
    const nameLength = zip.readUInt16LE(at + 28);
    const local = zip.readUInt32LE(at + 42);
    const name = zip.toString('utf8', at + 46, at + 46 + nameLength);
    at += 46 + nameLength + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
    if (name.endsWith('/')) continue;
    const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const raw = zip.subarray(start, start + size);
    if (method !== 0 && method !== 8) throw new Error(`zip: ${name}: compression method ${method}`);
    files.push({ name, data: method === 8 ? inflateRawSync(raw) : Buffer.from(raw) });
  }
  return files;
}

/** The two go.sum hashes of a module version: of its zip, and of its go.mod (`/go.mod` line). */
export function goSumHashes(zip: Buffer, goMod: Buffer): { zip: string; goMod: string } {
  return { zip: hash1(zipFiles(zip)), goMod: hash1([{ name: 'go.mod', data: goMod }]) };
}
