// A Definition as the scheduler walks it: one vertex per distinct op digest, inputs linked to
// their vertices, display names and Dockerfile locations from the metadata, and the result.
import { opDigest, unmarshalOp } from './llb/marshal.js';
import type { Definition, Op, OpMetadata } from './llb/types.js';
import type { VertexInfo } from './types.js';
import { GraphError, type StepSource } from './errors.js';

export interface GraphVertex extends VertexInfo {
  inputs: { vertex: GraphVertex; index: number }[];
  metadata: OpMetadata;
  /** `file:line` of the instruction that made the op, when the Definition's source map says. */
  location?: string;
  /** The instruction's lines (and the file's text, when carried) for the error excerpt. */
  source?: StepSource;
}

export interface SolveGraph {
  /** Every vertex, inputs before the vertices that read them. */
  vertices: GraphVertex[];
  /** The output the terminal op names; null when the result is scratch (an empty Definition). */
  result: { vertex: GraphVertex; index: number } | null;
}

export interface SharedGraph {
  /** Every distinct vertex of all the definitions, inputs first. */
  vertices: GraphVertex[];
  /** Each definition's result, in order (see SolveGraph.result). */
  results: ({ vertex: GraphVertex; index: number } | null)[];
}

export function buildGraph(def: Definition): SolveGraph {
  const { vertices, results } = buildSharedGraph([def]);
  return { vertices, result: results[0]! };
}

/**
 * One graph for several definitions (a multi-platform build's, one per platform): an op with the
 * same digest in two of them is one vertex, so what does not depend on the platform runs once.
 * Its name and source are those of the first definition that has it.
 */
export function buildSharedGraph(defs: readonly Definition[]): SharedGraph {
  const byDigest = new Map<string, GraphVertex>();
  const vertices: GraphVertex[] = [];
  const terminals = defs.map((def) => addOps(def, byDigest, vertices));
  // Linked in a second pass: BuildKit puts inputs first, but nothing in the format promises it.
  for (const v of vertices) {
    v.inputs = (v.op.inputs ?? []).map((input) => ({ vertex: mustFind(byDigest, input.digest, v.digest), index: input.index ?? 0 }));
  }
  checkAcyclic(vertices);
  const results = terminals.map((terminal) => {
    if (terminal === null) return null;
    if (!terminal) throw new GraphError('the definition has no terminal op (its last op must only name the result)');
    const out = terminal.inputs?.[0];
    return out ? { vertex: mustFind(byDigest, out.digest, 'the terminal op'), index: out.index ?? 0 } : null;
  });
  return { vertices: topoOrder(vertices), results };
}

/** Adds a definition's ops not seen yet; returns its terminal op (null for an empty definition). */
function addOps(def: Definition, byDigest: Map<string, GraphVertex>, vertices: GraphVertex[]): Op | null | undefined {
  if (def.def.length === 0) return null;
  const last = def.def.length - 1;
  let terminal: Op | undefined;
  def.def.forEach((bytes, i) => {
    const op = unmarshalOp(bytes);
    if (i === last && isTerminal(op)) {
      terminal = op;
      return;
    }
    const digest = opDigest(bytes);
    // Equal bytes are one op: a Definition that lists it twice still runs it once.
    if (byDigest.has(digest)) return;
    const metadata = def.metadata[digest] ?? {};
    const v: GraphVertex = { digest, op, name: '', inputs: [], metadata };
    v.name = metadata.description?.['llb.customname'] ?? derivedName(op);
    const source = sourceOf(def, digest);
    if (source) {
      v.source = source;
      v.location = `${source.filename}:${source.startLine}`;
    }
    byDigest.set(digest, v);
    vertices.push(v);
  });
  return terminal;
}

function isTerminal(op: Op): boolean {
  return !op.exec && !op.source && !op.file && !op.build && !op.merge && !op.diff && (op.inputs?.length ?? 0) <= 1;
}

function mustFind(byDigest: Map<string, GraphVertex>, digest: string | undefined, from: string): GraphVertex {
  const v = digest === undefined ? undefined : byDigest.get(digest);
  if (!v) throw new GraphError(`${from} reads ${digest ?? 'an input without a digest'}, which is not an op of the definition`);
  return v;
}

function checkAcyclic(vertices: GraphVertex[]): void {
  const state = new Map<GraphVertex, 'visiting' | 'done'>();
  const visit = (v: GraphVertex): void => {
    const s = state.get(v);
    if (s === 'done') return;
    if (s === 'visiting') throw new GraphError(`the definition has a cycle through ${v.digest}`);
    state.set(v, 'visiting');
    for (const i of v.inputs) visit(i.vertex);
    state.set(v, 'done');
  };
  vertices.forEach(visit);
}

function topoOrder(vertices: GraphVertex[]): GraphVertex[] {
  const seen = new Set<GraphVertex>();
  const out: GraphVertex[] = [];
  const visit = (v: GraphVertex): void => {
    if (seen.has(v)) return;
    seen.add(v);
    for (const i of v.inputs) visit(i.vertex);
    out.push(v);
  };
  vertices.forEach(visit);
  return out;
}

/** What buildx would show for an op the frontend did not name. */
function derivedName(op: Op): string {
  if (op.source) {
    const id = op.source.identifier ?? '';
    if (id.startsWith('local://')) return `[internal] load ${id === 'local://context' ? 'build context' : id.slice('local://'.length)}`;
    if (id.startsWith('docker-image://')) return `FROM ${id.slice('docker-image://'.length)}`;
    return id;
  }
  if (op.exec) {
    const args = op.exec.meta?.args ?? [];
    // `sh -c SCRIPT` reads best as the script itself.
    return args.length === 3 && args[1] === '-c' ? args[2]! : args.join(' ');
  }
  if (op.file) {
    return (op.file.actions ?? [])
      .map((a) => {
        if (a.copy) return `copy ${a.copy.src ?? ''} ${a.copy.dest ?? ''}`;
        if (a.mkdir) return `mkdir ${a.mkdir.path ?? ''}`;
        if (a.mkfile) return `mkfile ${a.mkfile.path ?? ''}`;
        if (a.rm) return `rm ${a.rm.path ?? ''}`;
        if (a.symlink) return `symlink ${a.symlink.oldpath ?? ''} -> ${a.symlink.newpath ?? ''}`;
        return 'file action';
      })
      .join(', ');
  }
  if (op.merge) return 'merge';
  if (op.diff) return 'diff';
  if (op.build) return 'build';
  return 'op';
}

const utf8 = new TextDecoder();

/** The first place the source map gives for the op; an op made by two instructions shows the first. */
function sourceOf(def: Definition, digest: string): StepSource | undefined {
  const loc = def.source?.locations?.[digest]?.locations?.[0];
  const range = loc?.ranges?.[0];
  const startLine = range?.start?.line;
  if (loc === undefined || startLine === undefined) return undefined;
  const info = def.source?.infos?.[loc.sourceIndex ?? 0];
  const out: StepSource = { filename: info?.filename ?? 'Dockerfile', startLine, endLine: Math.max(startLine, range?.end?.line ?? startLine) };
  if (info?.data?.length) out.text = utf8.decode(info.data);
  return out;
}
