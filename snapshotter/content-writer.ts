// A blob written in pieces (a download): bytes go to a temp file in ingest/, hashed as they
// arrive (the one hash of a download), and the blob is renamed into place only when its digest
// and size are the expected ones. Small pieces are gathered and written a megabyte at a time.
import { open, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { Digester } from '../oci/digest.js';
import { DigestMismatchError } from './errors.js';

const FLUSH_BYTES = 1024 * 1024;

export class ContentWriter {
  private fh: FileHandle | undefined;
  private hash = new Digester();
  private size = 0;
  private final: string | undefined;
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  private constructor(private readonly tmp: string, private readonly target: string, readonly expected: { digest: string; size: number }) {}

  static async create(tmp: string, target: string, expected: { digest: string; size: number }): Promise<ContentWriter> {
    const w = new ContentWriter(tmp, target, expected);
    w.fh = await open(tmp, 'wx', 0o644);
    return w;
  }

  async write(chunk: Buffer): Promise<void> {
    this.size += chunk.length;
    if (this.size > this.expected.size) throw new DigestMismatchError(this.expected.digest, `more than ${this.expected.size} bytes`);
    this.hash.update(chunk);
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes >= FLUSH_BYTES) await this.flush();
  }

  /** The digest of everything written (final: write no more after asking). */
  digest(): string {
    this.final ??= this.hash.digest();
    return this.final;
  }

  /** Back to zero bytes, for a source that starts over. */
  async reset(): Promise<void> {
    this.pending = [];
    this.pendingBytes = 0;
    await this.handle().truncate(0);
    this.hash = new Digester();
    this.final = undefined;
    this.size = 0;
  }

  async commit(): Promise<void> {
    const fh = this.handle();
    await this.flush();
    const digest = this.digest();
    if (this.size !== this.expected.size) throw new DigestMismatchError(this.expected.digest, `${this.size} bytes`, `, expected ${this.expected.size} bytes`);
    if (digest !== this.expected.digest) throw new DigestMismatchError(this.expected.digest, digest);
    // fsync before the rename, so a crash after it cannot leave a short blob.
    await fh.sync();
    await fh.close();
    this.fh = undefined;
    const present = await stat(this.target).then(() => true, () => false);
    if (present) await unlink(this.tmp);
    else await rename(this.tmp, this.target);
  }

  async abort(): Promise<void> {
    await this.fh?.close().catch(() => undefined);
    this.fh = undefined;
    await unlink(this.tmp).catch(() => undefined);
  }

  private async flush(): Promise<void> {
    const chunks = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    if (chunks.length > 0) await this.handle().writev(chunks);
  }

  private handle(): FileHandle {
    if (!this.fh) throw new Error('ContentWriter used after commit or abort');
    return this.fh;
  }
}
