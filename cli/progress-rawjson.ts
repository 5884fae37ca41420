// `--progress rawjson`: BuildKit's SolveStatus as JSON, one object per line, as `buildctl` and
// `docker buildx build --progress=rawjson` print it, so tools written for those read kiln's.
// Each vertex update carries the whole vertex (digest, inputs, name, times, cached, error).
import { createHash } from 'node:crypto';
import type { Writable } from 'node:stream';
import type { SolveEvent } from '../solver/types.js';

interface Vertex {
  digest: string;
  inputs?: string[];
  name: string;
  started?: string;
  completed?: string;
  cached?: boolean;
  error?: string;
}

interface VertexStatus {
  id: string;
  vertex: string;
  name: string;
  timestamp: string;
  started: string;
  completed?: string;
}

const iso = (ms: number): string => new Date(ms).toISOString();
const base64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');

// kiln's export is not an op of the Definition; BuildKit shows it as a vertex of its own.
const EXPORT_VERTEX = 'sha256:' + createHash('sha256').update('kiln exporter').digest('hex');
const EXPORT_NAME = 'exporting to image';

/** A warning line of the same stream (BuildKit's VertexWarning: level 1, the text base64 in `short`). */
export function rawjsonWarning(text: string): string {
  return JSON.stringify({ warnings: [{ vertex: '', level: 1, short: base64(text), detail: null }] }) + '\n';
}

export class RawJsonProgress {
  private readonly vertices = new Map<string, Vertex>();
  private readonly statuses = new Map<string, VertexStatus>();

  constructor(private readonly out: Writable) {}

  event(e: SolveEvent): void {
    switch (e.type) {
      case 'vertex.start':
        this.vertex({ digest: e.digest, ...(e.inputs.length ? { inputs: e.inputs } : {}), name: e.name, started: iso(e.time) });
        break;
      case 'vertex.cached':
        this.vertex({ digest: e.digest, ...(e.inputs.length ? { inputs: e.inputs } : {}), name: e.name, started: iso(e.time), completed: iso(e.time), cached: true });
        break;
      case 'vertex.done':
        this.vertex({ ...this.known(e.digest, e.name), completed: iso(e.time) });
        break;
      case 'vertex.error': {
        const v = this.known(e.digest, e.name);
        this.vertex({ ...v, started: v.started ?? iso(e.time), completed: iso(e.time), error: e.error });
        break;
      }
      case 'vertex.log':
        this.write({ logs: [{ vertex: e.digest, stream: e.stream === 'stdout' ? 1 : 2, data: base64(e.data), timestamp: iso(e.time) }] });
        break;
      case 'export.start': {
        if (!this.vertices.has(EXPORT_VERTEX)) this.vertex({ digest: EXPORT_VERTEX, name: EXPORT_NAME, started: iso(e.time) });
        const status: VertexStatus = { id: e.what, vertex: EXPORT_VERTEX, name: e.what, timestamp: iso(e.time), started: iso(e.time) };
        this.statuses.set(e.what, status);
        this.write({ statuses: [status] });
        break;
      }
      case 'export.done': {
        const began = this.statuses.get(e.what)?.started ?? iso(e.time);
        this.write({ statuses: [{ id: e.what, vertex: EXPORT_VERTEX, name: e.what, timestamp: iso(e.time), started: began, completed: iso(e.time) }] });
        break;
      }
    }
  }

  close(): void {
    const exporter = this.vertices.get(EXPORT_VERTEX);
    if (exporter && exporter.completed === undefined) this.vertex({ ...exporter, completed: new Date().toISOString() });
  }

  private known(digest: string, name: string): Vertex {
    return this.vertices.get(digest) ?? { digest, name };
  }

  private vertex(v: Vertex): void {
    this.vertices.set(v.digest, v);
    this.write({ vertexes: [v] });
  }

  private write(status: object): void {
    this.out.write(JSON.stringify(status) + '\n');
  }
}
