// Recognising what an unpacked archive is (OCI image layout versus `docker save` archive, by the
// files it holds) and peeling gzip off a stream; the magic numbers are native/archive-sniff.ts's.
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { ArchiveFormatError } from './errors.js';
import { sniffCompression, type Compression } from '../native/archive-sniff.js';

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
