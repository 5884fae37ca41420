// What `kiln push` and `kiln pull` show of their blobs: on a terminal one live line per blob with
// its bytes (`pushing [====>     ] 12.3MB/45.6MB`, then `pushed 45.6MB`), redrawn at most every
// 100 ms; anywhere else one line per blob when it is done (`sha256:…: pushed`), as scripts read it.
import type { Writable } from 'node:stream';
import type { BlobStatus, RegistryEvent } from '../api/index.js';
import { humanSize } from './human.js';
import { fit, LiveFrame } from './live-frame.js';

export interface RegistryProgress {
  event(e: RegistryEvent): void;
  /** Draws the final state and stops the timer. */
  close(): void;
}

type Out = Writable & { isTTY?: boolean; columns?: number };

export function createRegistryProgress(out: Out): RegistryProgress {
  return out.isTTY ? new TtyBlobs(out) : new PlainBlobs(out);
}

class PlainBlobs implements RegistryProgress {
  constructor(private readonly out: Out) {}

  event(e: RegistryEvent): void {
    if (e.type === 'blob') this.out.write(`${e.digest}: ${e.status}\n`);
  }

  close(): void {}
}

interface BlobRow {
  size: number;
  done: number;
  direction: 'push' | 'pull';
  status?: BlobStatus;
}

const BAR = 20;

class TtyBlobs implements RegistryProgress {
  private readonly rows = new Map<string, BlobRow>();
  private readonly frame: LiveFrame;

  constructor(private readonly out: Out) {
    this.frame = new LiveFrame(out, () => this.lines());
  }

  event(e: RegistryEvent): void {
    if (e.type !== 'blob' && e.type !== 'blob.bytes') return;
    const row = this.rows.get(e.digest) ?? { size: e.size, done: 0, direction: e.type === 'blob.bytes' ? e.direction : 'push' };
    if (e.type === 'blob') row.status = e.status;
    // A resumed upload reports from where it resumed: the bar never runs backwards.
    else row.done = Math.max(row.done, e.done);
    this.rows.set(e.digest, row);
    this.frame.touch();
  }

  close(): void {
    this.frame.close();
  }

  private lines(): string[] {
    const width = Math.max(40, this.out.columns ?? 80);
    return [...this.rows.entries()].map(([digest, row]) => fit(`${digest.replace(/^sha256:/, '').slice(0, 12)}: ${state(row)}`, width));
  }
}

function state(row: BlobRow): string {
  if (row.status !== undefined) return `${row.status} ${humanSize(row.size)}`;
  const share = row.size > 0 ? Math.min(1, row.done / row.size) : 0;
  const filled = Math.floor(share * BAR);
  const bar = filled >= BAR ? '='.repeat(BAR) : `${'='.repeat(filled)}>${' '.repeat(BAR - filled - 1)}`;
  return `${row.direction === 'push' ? 'pushing' : 'fetching'} [${bar}] ${humanSize(row.done)}/${humanSize(row.size)}`;
}
