// Recognising what a byte stream or an unpacked archive is: gzip/zstd/plain by magic number, and
// OCI image layout versus `docker save` archive by the files it holds.
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { ArchiveFormatError } from './errors.js';

export type Compression = 'gzip' | 'zstd' | 'bzip2' | 'xz' | 'none';

export function sniffCompression(head: Uint8Array): Compression {
  const starts = (...magic: number[]) => magic.every((b, i) => head[i] === b);
  if (starts(0x1f, 0x8b)) return 'gzip';
  if (starts(0x28, 0xb5, 0x2f, 0xfd)) return 'zstd';
  if (starts(0x42, 0x5a, 0x68)) return 'bzip2';
  if (starts(0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00)) return 'xz';
  return 'none';
}

/** The first `n` bytes of a file (fewer when it is shorter). */
export async function readFileHead(file: string, n: number): Promise<Buffer> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(n);
    const { bytesRead } = await fh.read(buf, 0, n, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** A tar stream's first header block carries "ustar" at offset 257; an empty tar is all zeros. */
export function looksLikeTar(head: Uint8Array): boolean {
  if (head.length < 512) return false;
  if (Buffer.from(head.subarray(257, 262)).toString('latin1') === 'ustar') return true;
  return head.subarray(0, 512).every((b) => b === 0);
}

export type ArchiveKind = 'oci' | 'docker';

/**
 * Docker ≥ 25 writes both an OCI layout and a manifest.json; the OCI side is preferred there
 * because it carries the original manifests, so digests survive a save/load round trip.
 */
export function detectArchive(names: ReadonlySet<string>, source: string): ArchiveKind {
  if (names.has('index.json')) return 'oci';
  if (names.has('manifest.json')) return 'docker';
  throw new ArchiveFormatError(
    source,
    'neither an OCI image layout (no index.json) nor a docker save archive (no manifest.json)',
  );
}

/** Reads the first `n` bytes of a stream and gives back a stream that still yields all of it. */
export async function peekStream(src: NodeJS.ReadableStream, n: number): Promise<{ head: Buffer; stream: Readable }> {
  const it = (src as AsyncIterable<Buffer | string>)[Symbol.asyncIterator]();
  const chunks: Buffer[] = [];
  let length = 0;
  let done = false;
  while (length < n) {
    const r = await it.next();
    if (r.done) {
      done = true;
      break;
    }
    const chunk = typeof r.value === 'string' ? Buffer.from(r.value) : r.value;
    chunks.push(chunk);
    length += chunk.length;
  }
  const head = Buffer.concat(chunks);
  async function* all(): AsyncGenerator<Buffer> {
    if (head.length > 0) yield head;
    if (done) return;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield typeof r.value === 'string' ? Buffer.from(r.value) : r.value;
    }
  }
  return { head, stream: Readable.from(all(), { objectMode: false }) };
}

/** The stream with a gzip wrapper removed if it has one; other compressions are refused by name. */
export async function maybeGunzip(
  src: NodeJS.ReadableStream,
  onUnsupported: (compression: Compression) => Error,
): Promise<{ stream: Readable; compression: Compression }> {
  const { head, stream } = await peekStream(src, 6);
  const compression = sniffCompression(head);
  if (compression === 'none') return { stream, compression };
  if (compression !== 'gzip') throw onUnsupported(compression);
  const gunzip = createGunzip();
  stream.on('error', (err) => gunzip.destroy(err));
  return { stream: stream.pipe(gunzip), compression };
}
