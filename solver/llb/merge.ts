// Merge ops: several states stacked into one filesystem, later inputs over earlier ones, as
// BuildKit's llb.Merge builds them (the op behind COPY --link).
import type { Op } from './types.js';
import { metadataOf, OpVertex, Output, type OpOptions, type State } from './vertex.js';

/**
 * Scratch inputs add nothing and are left out; a merge of one remaining state is that state
 * and of none is scratch, so no op is made for them (BuildKit does the same, which keeps digests
 * equal). Inputs are not deduplicated: each one is its own MergeInput, in order. A merge carries no
 * platform: the same trees merge the same way on every platform.
 */
export function merge(inputs: State[], opts?: OpOptions): State {
  const present = inputs.filter((s): s is Output => s !== null);
  if (present.length === 0) return null;
  if (present.length === 1) return present[0]!;
  const op: Op = {
    inputs: present.map((o) => ({ digest: o.digest(), index: o.index })),
    merge: { inputs: present.map((_o, i) => ({ input: i })) },
    constraints: {},
  };
  return new Output(new OpVertex(op, present, metadataOf(opts)), 0);
}
