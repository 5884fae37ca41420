// Reads `kiln build --progress rawjson` output (BuildKit SolveStatus lines) back into the
// step-level facts tests check: which vertices ran, which were cached, failed, and their logs.
// The exporter's own vertex is left out: it is not a step of the Dockerfile.
export interface StepEvent {
  type: 'vertex.start' | 'vertex.cached' | 'vertex.done' | 'vertex.error' | 'vertex.log';
  digest: string;
  name: string;
  /** ms since the epoch: when it started (start, cached) or ended (done, error). */
  time: number;
  /** vertex.log: the decoded text. */
  data?: string;
}

interface Status {
  vertexes?: { digest: string; name: string; started?: string; completed?: string; cached?: boolean; error?: string }[];
  logs?: { vertex: string; data: string; timestamp: string }[];
}

export function stepEvents(stderr: string): StepEvent[] {
  const names = new Map<string, string>();
  const out: StepEvent[] = [];
  for (const line of stderr.split('\n')) {
    if (!line.startsWith('{')) continue;
    const s = JSON.parse(line) as Status;
    for (const v of s.vertexes ?? []) {
      if (v.name === 'exporting to image') continue;
      names.set(v.digest, v.name);
      const type = v.cached ? 'vertex.cached' : v.error !== undefined ? 'vertex.error' : v.completed !== undefined ? 'vertex.done' : 'vertex.start';
      const at = type === 'vertex.start' ? v.started : v.completed;
      out.push({ type, digest: v.digest, name: v.name, time: at === undefined ? 0 : Date.parse(at) });
    }
    for (const l of s.logs ?? []) out.push({ type: 'vertex.log', digest: l.vertex, name: names.get(l.vertex) ?? '', time: Date.parse(l.timestamp), data: Buffer.from(l.data, 'base64').toString('utf8') });
  }
  return out;
}
