// Renders a solve's events for people and tools: `plain` (buildx's log format), `rawjson`
// (BuildKit's SolveStatus JSON, see progress-rawjson.ts), `tty` (a live view of the steps, redrawn at most every 100 ms), `quiet` (none).
import type { Writable } from 'node:stream';
import { shorten, type SolveEvent } from '../api/index.js';
import { fit, LiveFrame } from './live-frame.js';
import { RawJsonProgress } from './progress-rawjson.js';

export type ProgressMode = 'auto' | 'tty' | 'plain' | 'rawjson' | 'quiet';
export const PROGRESS_MODES: readonly ProgressMode[] = ['auto', 'tty', 'plain', 'rawjson', 'quiet'];

export interface ProgressRenderer {
  event(e: SolveEvent): void;
  /** Draws the final state and stops any timer. */
  close(): void;
}

type Out = Writable & { isTTY?: boolean; columns?: number };

/** `auto` is the live view on a terminal and plain logs anywhere else (CI, pipes, files). */
export function createProgress(mode: ProgressMode, out: Out): ProgressRenderer {
  if (mode === 'quiet') return { event: () => undefined, close: () => undefined };
  if (mode === 'rawjson') return new RawJsonProgress(out);
  if (mode === 'tty' || (mode === 'auto' && out.isTTY)) return new TtyProgress(out);
  return new PlainProgress(out);
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

/** Steps numbered in the order they first appear, as buildx numbers them. */
class Numbering {
  private readonly ids = new Map<string, number>();
  private next = 1;
  of(key: string): { id: number; fresh: boolean } {
    const id = this.ids.get(key);
    if (id !== undefined) return { id, fresh: false };
    this.ids.set(key, this.next);
    return { id: this.next++, fresh: true };
  }
}

class PlainProgress implements ProgressRenderer {
  private readonly numbers = new Numbering();
  private readonly started = new Map<string, number>();
  private readonly partial = new Map<string, string>();

  constructor(private readonly out: Out) {}

  event(e: SolveEvent): void {
    switch (e.type) {
      case 'vertex.start':
        this.started.set(e.digest, e.time);
        this.head(e.digest, e.name);
        break;
      case 'vertex.cached':
        this.out.write(`#${this.head(e.digest, e.name)} CACHED\n`);
        break;
      case 'vertex.done':
        this.flush(e.digest, e.time);
        this.out.write(`#${this.head(e.digest, e.name)} DONE ${seconds(e.durationMs)}\n`);
        break;
      case 'vertex.error':
        this.flush(e.digest, e.time);
        this.out.write(e.error === 'cancelled' ? `#${this.head(e.digest, e.name)} CANCELED\n` : `#${this.head(e.digest, e.name)} ERROR: ${shorten(e.error)}\n`);
        break;
      case 'vertex.log': {
        const text = (this.partial.get(e.digest) ?? '') + e.data;
        const lines = text.split('\n');
        this.partial.set(e.digest, lines.pop() ?? '');
        for (const line of lines) this.line(e.digest, e.time, line);
        break;
      }
      case 'export.start':
        this.started.set(`export:${e.what}`, e.time);
        this.head(`export:${e.what}`, e.what);
        break;
      case 'export.done':
        this.out.write(`#${this.head(`export:${e.what}`, e.what)} DONE ${seconds(e.time - (this.started.get(`export:${e.what}`) ?? e.time))}\n`);
        break;
    }
  }

  close(): void {
    for (const digest of this.partial.keys()) this.flush(digest, Date.now());
  }

  /** The step's number; its title line the first time it is seen, after a blank line as buildx does. */
  private head(key: string, name: string): number {
    const { id, fresh } = this.numbers.of(key);
    if (fresh) this.out.write(`\n#${id} ${shorten(name)}\n`);
    return id;
  }

  private line(digest: string, time: number, line: string): void {
    const { id } = this.numbers.of(digest);
    const at = (time - (this.started.get(digest) ?? time)) / 1000;
    this.out.write(`#${id} ${at.toFixed(3)} ${line}\n`);
  }

  private flush(digest: string, time: number): void {
    const rest = this.partial.get(digest);
    if (rest) this.line(digest, time, rest);
    this.partial.delete(digest);
  }
}

interface Row {
  name: string;
  state: 'running' | 'cached' | 'done' | 'error' | 'cancelled';
  start: number;
  durationMs?: number;
  logs: string[];
}

const TTY_LOG_LINES = 6;

class TtyProgress implements ProgressRenderer {
  private readonly rows = new Map<string, Row>();
  private readonly began = Date.now();
  private readonly frame: LiveFrame;

  constructor(private readonly out: Out) {
    // While a step runs its clock does: the frame redraws without an event.
    this.frame = new LiveFrame(out, () => this.lines(), () => [...this.rows.values()].some((r) => r.state === 'running'));
  }

  event(e: SolveEvent): void {
    this.frame.touch();
    const now = e.time;
    switch (e.type) {
      case 'vertex.start':
        this.rows.set(e.digest, { name: e.name, state: 'running', start: now, logs: [] });
        break;
      case 'vertex.cached':
        this.rows.set(e.digest, { name: e.name, state: 'cached', start: now, logs: [] });
        break;
      case 'vertex.done':
        this.finish(e.digest, e.name, 'done', e.durationMs);
        break;
      case 'vertex.error': {
        const row = this.finish(e.digest, e.name, e.error === 'cancelled' ? 'cancelled' : 'error', now - (this.rows.get(e.digest)?.start ?? now));
        if (row.state === 'error') row.logs.push(`ERROR: ${e.error.split('\n')[0]}`);
        break;
      }
      case 'vertex.log': {
        const row = this.rows.get(e.digest);
        if (!row) break;
        const lines = e.data.split('\n').filter((l) => l !== '');
        row.logs.push(...lines);
        if (row.logs.length > TTY_LOG_LINES) row.logs.splice(0, row.logs.length - TTY_LOG_LINES);
        break;
      }
      case 'export.start':
        this.rows.set(`export:${e.what}`, { name: e.what, state: 'running', start: now, logs: [] });
        break;
      case 'export.done':
        this.finish(`export:${e.what}`, e.what, 'done', now - (this.rows.get(`export:${e.what}`)?.start ?? now));
        break;
    }
  }

  close(): void {
    this.frame.close();
  }

  private finish(key: string, name: string, state: Row['state'], durationMs: number): Row {
    const row = this.rows.get(key) ?? { name, state, start: Date.now(), logs: [] };
    row.state = state;
    row.durationMs = durationMs;
    this.rows.set(key, row);
    return row;
  }

  private lines(): string[] {
    const width = Math.max(40, this.out.columns ?? 80);
    const rows = [...this.rows.values()];
    const finished = rows.filter((r) => r.state !== 'running').length;
    const lines = [`[+] Building ${seconds(Date.now() - this.began)} (${finished}/${rows.length})`];
    for (const r of rows) {
      const status = r.state === 'cached' ? 'CACHED' : r.state === 'running' ? seconds(Date.now() - r.start) : r.state === 'cancelled' ? 'CANCELED' : `${r.state === 'error' ? 'ERROR ' : ''}${seconds(r.durationMs ?? 0)}`;
      const title = ` => ${r.name.split('\n')[0]}`;
      lines.push(fit(title, width - status.length - 1).padEnd(width - status.length - 1) + ' ' + status);
      if (r.state === 'running' || r.state === 'error') for (const l of r.logs) lines.push(fit(` => > ${l}`, width));
    }
    return lines;
  }
}
