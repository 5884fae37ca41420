// The Dockerfile's source map (BuildKit's pb.Source): which instruction's lines made each op, so
// a failing step can quote its Dockerfile lines. It sits beside the ops and is no part of them.
import type { State, Vertex } from '../solver/llb/builder.js';
import type { Location, Source } from '../solver/llb/types.js';
import type { SourceRange } from './instructions.js';

export class SourceMap {
  /** Vertices already given a range; their inputs were visited with them. */
  private readonly seen = new Set<Vertex>();
  private readonly locations = new Map<string, Location[]>();

  /** `filename` as the user named the Dockerfile; `text` is carried so errors can quote it. */
  constructor(private readonly filename: string, private readonly text?: string) {}

  /**
   * Gives `range` to every op under `state` that no earlier instruction made: the ops of one
   * instruction are exactly those new since the one before (BuildKit's llb.WithLocation).
   */
  locate(state: State, range: SourceRange): void {
    if (!state) return;
    const loc: Location = { sourceIndex: 0, ranges: [{ start: { line: range.startLine }, end: { line: range.endLine } }] };
    const stack: Vertex[] = [state.vertex];
    while (stack.length) {
      const v = stack.pop()!;
      if (this.seen.has(v)) continue;
      this.seen.add(v);
      this.add(v.digest(), loc);
      for (const input of v.inputs) stack.push(input.vertex);
    }
  }

  /** Two instructions can make the same op (equal bytes): it keeps both places, as BuildKit does. */
  private add(digest: string, loc: Location): void {
    const list = this.locations.get(digest) ?? [];
    const line = loc.ranges![0]!.start!.line;
    if (!list.some((l) => l.ranges?.[0]?.start?.line === line)) list.push(loc);
    this.locations.set(digest, list);
  }

  /** Stages are compiled only when the target reaches them, so every located op is in the Definition. */
  source(): Source {
    const locations: NonNullable<Source['locations']> = {};
    for (const [digest, list] of this.locations) locations[digest] = { locations: list };
    const info = { filename: this.filename, language: 'Dockerfile', ...(this.text !== undefined ? { data: new TextEncoder().encode(this.text) } : {}) };
    return { infos: [info], locations };
  }
}
