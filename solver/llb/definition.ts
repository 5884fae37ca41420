// Flattening a graph into a Definition: every op once, inputs before the ops that read them, in
// the order BuildKit's marshal emits them, closed by the terminal op that names the result.
import { marshalOp } from './marshal.js';
import type { Definition, OpMetadata, Source } from './types.js';
import type { State, Vertex } from './vertex.js';

export interface DefinitionOptions {
  /** Extra metadata merged into the entries of the ops with these digests. */
  metadata?: Record<string, OpMetadata>;
  source?: Source;
}

/** Later metadata wins field by field; descriptions and caps are merged key by key. */
function mergeMetadata(a: OpMetadata | undefined, b: OpMetadata): OpMetadata {
  const out: OpMetadata = { ...a };
  if (b.ignoreCache) out.ignoreCache = true;
  if (b.description && Object.keys(b.description).length) out.description = { ...out.description, ...b.description };
  if (b.exportCache) out.exportCache = { ...b.exportCache };
  if (b.caps && Object.keys(b.caps).length) out.caps = { ...out.caps, ...b.caps };
  if (b.progressGroup) out.progressGroup = { ...b.progressGroup };
  return out;
}

export function definition(root: State, opts?: DefinitionOptions): Definition {
  const def: Definition = { def: [], metadata: {} };
  if (opts?.source) def.source = opts.source;
  // Scratch is no op at all: BuildKit marshals it as an empty definition.
  if (!root) return def;

  const visited = new Set<Vertex>();
  const emitted = new Set<string>();
  const visit = (v: Vertex): void => {
    if (visited.has(v)) return;
    for (const input of v.inputs) visit(input.vertex);
    visited.add(v);
    const digest = v.digest();
    // Two vertices with equal bytes are one op: emit it once and merge what each says about it.
    def.metadata[digest] = mergeMetadata(def.metadata[digest], v.metadata);
    if (emitted.has(digest)) return;
    emitted.add(digest);
    def.def.push(v.marshal());
  };
  visit(root.vertex);
  def.def.push(marshalOp({ inputs: [{ digest: root.digest(), index: root.index }] }));
  for (const [digest, md] of Object.entries(opts?.metadata ?? {})) def.metadata[digest] = mergeMetadata(def.metadata[digest], md);
  return def;
}
