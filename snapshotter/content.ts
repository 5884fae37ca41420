// The content store: immutable blobs addressed by sha256 under <root>/blobs/sha256/<hex>. Every
// write goes to ingest/ first and is renamed into place only once its digest is verified.
import { constants, createWriteStream } from 'node:fs';
import { dirEntries } from './dir-entries.js';
import { copyFile, mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import path from 'node:path';
import { native } from '../native/binding.js';
import { ingestDir, ingestPath } from './ingest.js';
import { BlobNotFoundError, DigestMismatchError } from './errors.js';
import { asDiskFull } from './disk-full.js';
import { writeFileAtomic } from './atomic-file.js';
import { ContentWriter } from './content-writer.js';
import { Digester, digestHex, isDigestHex, sha256Digest } from '../oci/digest.js';

export interface BlobInfo {
  digest: string;
  size: number;
}

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException).code;
}

/** Flushes a file written by someone else (a copy, a handed-over file) before it is renamed into place. */
async function syncFile(file: string): Promise<void> {
  const fh = await open(file, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export class ContentStore {
  private ready: Promise<void> | undefined;

  constructor(readonly root: string) {}

  blobPath(digest: string): string {
    return path.join(this.root, 'blobs', 'sha256', digestHex(digest));
  }

  async has(digest: string): Promise<boolean> {
    return (await this.info(digest)) !== undefined;
  }

  async info(digest: string): Promise<BlobInfo | undefined> {
    try {
      const st = await stat(this.blobPath(digest));
      return { digest, size: st.size };
    } catch (err) {
      if (errno(err) === 'ENOENT') return undefined;
      throw err;
    }
  }

  /** The blob's bytes, unverified (fsck re-hashes). */
  async read(digest: string): Promise<Buffer> {
    try {
      return await readFile(this.blobPath(digest));
    } catch (err) {
      if (errno(err) === 'ENOENT') throw new BlobNotFoundError(digest, this.root);
      throw err;
    }
  }

  async readJSON<T>(digest: string): Promise<T> {
    return JSON.parse((await this.read(digest)).toString('utf8')) as T;
  }

  async write(data: Uint8Array | string, expected?: string): Promise<BlobInfo> {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    const digest = sha256Digest(bytes);
    // Hashed before anything touches the disk: a mismatch leaves no trace at all.
    if (expected !== undefined && expected !== digest) throw new DigestMismatchError(expected, digest);
    const target = this.blobPath(digest);
    if (await this.has(digest)) return { digest, size: bytes.length };
    await this.prepare();
    try {
      await writeFileAtomic(target, bytes, { tmp: ingestPath(this.root) });
    } catch (err) {
      throw asDiskFull(err, this.root, `writing blob ${digest}`);
    }
    return { digest, size: bytes.length };
  }

  /**
   * Stores a file's content. `move` hands the file over (renamed when on the same filesystem);
   * otherwise it is copied (reflinked where the filesystem can). On a digest mismatch the source
   * is left where it was and nothing is stored.
   */
  async ingestFile(src: string, opts: { expected?: string; move?: boolean } = {}): Promise<BlobInfo> {
    if (opts.expected !== undefined) this.blobPath(opts.expected);
    await this.prepare();
    const tmp = ingestPath(this.root);
    let moved = false;
    if (opts.move) {
      try {
        await rename(src, tmp);
        moved = true;
      } catch (err) {
        if (errno(err) !== 'EXDEV') throw err;
      }
    }
    try {
      if (!moved) await copyFile(src, tmp, constants.COPYFILE_FICLONE);
      // The copy is what gets stored, so the copy is what gets hashed.
      const got = await native.sha256File(tmp);
      if (opts.expected !== undefined && got.digest !== opts.expected) {
        throw new DigestMismatchError(opts.expected, got.digest, ` (from ${src})`);
      }
      await syncFile(tmp);
      await this.commit(tmp, got.digest);
      if (opts.move && !moved) await unlink(src);
      return got;
    } catch (err) {
      if (moved) await rename(tmp, src).catch(() => undefined);
      else await unlink(tmp).catch(() => undefined);
      throw asDiskFull(err, this.root, `storing ${src}`);
    }
  }

  /** Streams content into the store, hashing as it writes; stops early once it exceeds `expected.size`. */
  async ingestStream(src: NodeJS.ReadableStream, expected?: { digest: string; size?: number }): Promise<BlobInfo> {
    if (expected !== undefined) this.blobPath(expected.digest);
    await this.prepare();
    const tmp = ingestPath(this.root);
    const hash = new Digester();
    let size = 0;
    try {
      await pipeline(
        src,
        async function* (source: AsyncIterable<Buffer | string>) {
          for await (const chunk of source) {
            const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
            size += buf.length;
            if (expected?.size !== undefined && size > expected.size) {
              throw new DigestMismatchError(expected.digest, `more than ${expected.size} bytes`);
            }
            hash.update(buf);
            yield buf;
          }
        },
        // flush: fsync before close, so a crash after the rename cannot leave a short blob.
        createWriteStream(tmp, { flags: 'wx', mode: 0o644, flush: true }),
      );
      const digest = hash.digest();
      if (expected !== undefined) {
        if (expected.size !== undefined && size !== expected.size) {
          throw new DigestMismatchError(expected.digest, `${size} bytes`, `, expected ${expected.size} bytes`);
        }
        if (digest !== expected.digest) throw new DigestMismatchError(expected.digest, digest);
      }
      await this.commit(tmp, digest);
      return { digest, size };
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      throw asDiskFull(err, this.root, 'writing a blob');
    }
  }

  /** A writer for a blob that arrives in pieces (a download that may resume); see ContentWriter. */
  async writer(expected: { digest: string; size: number }): Promise<ContentWriter> {
    const target = this.blobPath(expected.digest);
    await this.prepare();
    return ContentWriter.create(ingestPath(this.root), target, expected);
  }

  async delete(digest: string): Promise<void> {
    try {
      await unlink(this.blobPath(digest));
    } catch (err) {
      if (errno(err) !== 'ENOENT') throw err;
    }
  }

  async list(): Promise<BlobInfo[]> {
    const names = await dirEntries(path.join(this.root, 'blobs', 'sha256'));
    const infos = await Promise.all(
      names.filter(isDigestHex).map((n) => this.info(`sha256:${n}`)),
    );
    return infos.filter((i): i is BlobInfo => i !== undefined);
  }

  /** Re-hashes every blob; `corrupt` lists the digests whose content no longer matches. */
  async fsck(): Promise<{ checked: number; corrupt: string[] }> {
    const blobs = await this.list();
    const corrupt: string[] = [];
    // A few at a time: the hashing runs on libuv's small thread pool anyway.
    for (let i = 0; i < blobs.length; i += 4) {
      const batch = blobs.slice(i, i + 4);
      const sums = await Promise.all(batch.map((b) => native.sha256File(this.blobPath(b.digest))));
      sums.forEach((s, j) => {
        if (s.digest !== batch[j]!.digest) corrupt.push(batch[j]!.digest);
      });
    }
    return { checked: blobs.length, corrupt: corrupt.sort() };
  }

  /** Renames a verified temp file into place; when the blob already exists the temp is dropped. */
  private async commit(tmp: string, digest: string): Promise<void> {
    const target = this.blobPath(digest);
    if (await this.has(digest)) {
      await unlink(tmp);
      return;
    }
    // rename(2) replaces atomically, so a racing writer of the same digest is harmless.
    await rename(tmp, target);
  }

  private prepare(): Promise<void> {
    this.ready ??= Promise.all([
      mkdir(path.join(this.root, 'blobs', 'sha256'), { recursive: true }),
      mkdir(ingestDir(this.root), { recursive: true }),
    ]).then(() => undefined);
    return this.ready;
  }
}
