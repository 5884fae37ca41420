// Writes a tar stream entry by entry (files from disk or from memory) with tar-stream, honouring
// backpressure, with fixed owners and mtimes so the same images always give the same bytes.
import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import tar from 'tar-stream';

const epoch = new Date(0);

export class TarWriter {
  private readonly pack = tar.pack();
  private readonly done: Promise<void>;
  private readonly written = new Set<string>();

  constructor(out: NodeJS.WritableStream) {
    this.done = new Promise<void>((resolve, reject) => {
      this.pack.on('error', reject);
      out.on('error', reject);
      out.on('finish', () => resolve());
      // pipe() never ends process.stdout, so it never emits 'finish': the pack's end is the signal there.
      if (out === process.stdout) this.pack.on('end', () => resolve());
    });
    // Awaited in finish(); this keeps an early failure from going unhandled meanwhile.
    this.done.catch(() => undefined);
    this.pack.pipe(out);
  }

  has(name: string): boolean {
    return this.written.has(name);
  }

  async dir(name: string): Promise<void> {
    if (this.written.has(name)) return;
    this.written.add(name);
    await new Promise<void>((resolve, reject) =>
      this.pack.entry({ name: name + '/', type: 'directory', mode: 0o755, mtime: epoch, uid: 0, gid: 0 }, (err) =>
        err ? reject(err) : resolve(),
      ),
    );
  }

  async buffer(name: string, data: Buffer | string): Promise<void> {
    this.written.add(name);
    await new Promise<void>((resolve, reject) =>
      this.pack.entry({ name, mode: 0o644, mtime: epoch, uid: 0, gid: 0 }, data, (err) => (err ? reject(err) : resolve())),
    );
  }

  async file(name: string, source: string, size: number): Promise<void> {
    this.written.add(name);
    let entry!: NodeJS.WritableStream;
    const finished = new Promise<void>((resolve, reject) => {
      entry = this.pack.entry({ name, size, mode: 0o644, mtime: epoch, uid: 0, gid: 0 }, (err) => (err ? reject(err) : resolve()));
    });
    for await (const chunk of createReadStream(source)) {
      if (!entry.write(chunk as Buffer)) await once(entry as unknown as NodeJS.EventEmitter, 'drain');
    }
    entry.end();
    await finished;
  }

  async finish(): Promise<void> {
    this.pack.finalize();
    await this.done;
  }
}
