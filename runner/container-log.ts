// A container's output as <dir>/log.jsonl, one line per output line as Docker's json-file driver
// keeps it ({stream, time, log}), so `kiln logs` can replay stdout and stderr in their order.

import { createWriteStream, type WriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { once } from 'node:events';

export type LogStream = 'stdout' | 'stderr';

export interface LogEntry {
  stream: LogStream;
  time: string;
  /** The line, with its newline when it had one. */
  log: string;
}

// A process that never prints a newline still gets its output recorded in pieces this big.
const MAX_PARTIAL = 16 * 1024;

export class LogWriter {
  private readonly out: WriteStream;
  private readonly partial: Record<LogStream, Buffer> = { stdout: Buffer.alloc(0), stderr: Buffer.alloc(0) };

  constructor(file: string) {
    this.out = createWriteStream(file, { flags: 'a' });
  }

  write(stream: LogStream, chunk: Buffer): void {
    let buf = Buffer.concat([this.partial[stream], chunk]);
    let nl: number;
    while ((nl = buf.indexOf(0x0a)) >= 0) {
      this.emit(stream, buf.subarray(0, nl + 1));
      buf = buf.subarray(nl + 1);
    }
    if (buf.length >= MAX_PARTIAL) {
      this.emit(stream, buf);
      buf = Buffer.alloc(0);
    }
    this.partial[stream] = buf;
  }

  async close(): Promise<void> {
    for (const s of ['stdout', 'stderr'] as const) if (this.partial[s].length > 0) this.emit(s, this.partial[s]);
    this.out.end();
    await once(this.out, 'finish');
  }

  private emit(stream: LogStream, line: Buffer): void {
    const entry: LogEntry = { stream, time: new Date().toISOString(), log: line.toString('utf8') };
    this.out.write(JSON.stringify(entry) + '\n');
  }
}

export interface ReadLogOptions {
  /** Only the last N lines of what is there now. */
  tail?: number;
  /** Keep reading new lines until this says the writer is done (`kiln logs -f`). */
  until?: () => Promise<boolean>;
  pollMs?: number;
}

/** Calls `emit` for each entry of `file` (none when it does not exist yet). */
export async function readLog(file: string, emit: (e: LogEntry) => void, opts: ReadLogOptions = {}): Promise<void> {
  let offset = 0;
  let pending = '';
  let first = true;
  const drain = async (): Promise<void> => {
    const fh = await open(file, 'r').catch(() => undefined);
    if (!fh) return;
    try {
      const { size } = await fh.stat();
      if (size <= offset) return;
      const buf = Buffer.alloc(size - offset);
      const { bytesRead } = await fh.read(buf, 0, buf.length, offset);
      offset += bytesRead;
      pending += buf.subarray(0, bytesRead).toString('utf8');
    } finally {
      await fh.close();
    }
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    let entries = lines.filter((l) => l !== '').map((l) => JSON.parse(l) as LogEntry);
    if (first && opts.tail !== undefined) entries = opts.tail <= 0 ? [] : entries.slice(-opts.tail);
    for (const e of entries) emit(e);
  };
  await drain();
  first = false;
  if (!opts.until) return;
  for (;;) {
    // Checked before the read, so the lines written just before the end are still read after it.
    const done = await opts.until();
    await drain();
    if (done) return;
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 100));
  }
}
