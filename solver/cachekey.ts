// Cache keys: what makes two runs of a vertex interchangeable. As in BuildKit, a key covers the
// op's own bytes, the keys of the outputs it reads (so a change anywhere upstream reaches it) and
// content only known by looking (context file checksums, an image's manifest digest).
import { createHash } from 'node:crypto';

export interface CacheKeyInput {
  /** The cache key of the vertex producing the input. */
  key: string;
  /** Which of its outputs is read. */
  index: number;
}

/**
 * The op digest is used as it is: `llb.customname` and the other display data live in the
 * Definition's metadata, not in the op bytes, so renaming a step never invalidates it.
 */
export function cacheKey(opDigest: string, inputs: CacheKeyInput[], contentKey?: string): string {
  const h = createHash('sha256');
  // Length-prefixed fields, so no two different tuples hash the same bytes.
  const field = (s: string): void => {
    h.update(`${Buffer.byteLength(s)}:`);
    h.update(s);
  };
  field('kiln.cachekey.v1');
  field(opDigest);
  field(String(inputs.length));
  for (const input of inputs) {
    field(input.key);
    field(String(input.index));
  }
  field(contentKey === undefined ? '-' : `+${contentKey}`);
  return 'sha256:' + h.digest('hex');
}
