// A blob written in pieces (a download): bytes go to a temp file in ingest/ through the native
// ingest thread, which hashes them as they arrive (the one hash of a download) and syncs the file
// when the input ends; the blob is renamed into place only when its digest and size are the
// expected ones.
import { rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { native, type BlobIngest, type FileDigest } from '../native/binding.js';
import { asDiskFull } from './disk-full.js';
import { DigestMismatchError } from './errors.js';

export class ContentWriter {
  private ingest: BlobIngest | undefined;
  private size = 0;
  private done: FileDigest | undefined;

  private constructor(private readonly tmp: string, private readonly target: string, readonly expected: { digest: string; size: number }) {}

  static async create(tmp: string, target: string, expected: { digest: string; size: number }): Promise<ContentWriter> {
    const w = new ContentWriter(tmp, target, expected);
    w.ingest = native.BlobIngest.create(tmp);
    return w;
  }

  async write(chunk: Buffer): Promise<void> {
    this.size += chunk.length;
    if (this.size > this.expected.size) throw new DigestMismatchError(this.expected.digest, `more than ${this.expected.size} bytes`);
    // A refused chunk means the ingest thread failed (ENOSPC, EIO): finishing rejects with why.
    if (!this.handle().write(chunk)) await this.finish();
  }

  /** Ends the writing (the file synced); the digest of everything written. Write no more after. */
  async finish(): Promise<string> {
    if (!this.done) {
      const ingest = this.handle();
      this.ingest = undefined;
      this.done = await ingest.finish().catch((err: unknown) => {
        throw asDiskFull(err, path.dirname(this.tmp), `writing blob ${this.expected.digest}`);
      });
    }
    return this.done.digest;
  }

  /** Back to zero bytes, for a source that starts over. */
  async reset(): Promise<void> {
    this.handle().reset();
    this.size = 0;
  }

  async commit(): Promise<void> {
    const digest = await this.finish();
    const size = this.done!.size;
    if (size !== this.expected.size) throw new DigestMismatchError(this.expected.digest, `${size} bytes`, `, expected ${this.expected.size} bytes`);
    if (digest !== this.expected.digest) throw new DigestMismatchError(this.expected.digest, digest);
    const present = await stat(this.target).then(() => true, () => false);
    if (present) await unlink(this.tmp);
    else await rename(this.tmp, this.target);
  }

  async abort(): Promise<void> {
    const ingest = this.ingest;
    this.ingest = undefined;
    await ingest?.finish().catch(() => undefined);
    await unlink(this.tmp).catch(() => undefined);
  }

  private handle(): BlobIngest {
    if (!this.ingest) throw new Error('ContentWriter used after finish, commit or abort');
    return this.ingest;
  }
}
