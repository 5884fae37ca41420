// Op and Definition to bytes and back, and op digests: the identity of a vertex is the sha256
// of its deterministic bytes, as in BuildKit.
import { decodeMessage, encodeMessage } from './codec.js';
import { schema } from './schema.js';
import type { Definition, Op, PbDefinition } from './types.js';
import { sha256Digest } from '../../oci/digest.js';

export function marshalOp(op: Op): Uint8Array {
  return encodeMessage(schema.Op, op as Record<string, unknown>, 'Op');
}

/** Rejects field numbers our schema lacks, so no part of an op is silently dropped. */
export function unmarshalOp(bytes: Uint8Array): Op {
  return decodeMessage(schema.Op, bytes, true, 'op') as Op;
}

export function opDigest(bytes: Uint8Array): string {
  return sha256Digest(bytes);
}

export function marshalDefinition(def: Definition): Uint8Array {
  const pb: PbDefinition = { def: def.def, metadata: def.metadata, source: def.source };
  return encodeMessage(schema.Definition, pb as Record<string, unknown>, 'Definition');
}

/** Metadata and source maps are advisory, so unknown fields there are skipped, not refused. */
export function unmarshalDefinition(bytes: Uint8Array): Definition {
  const pb = decodeMessage(schema.Definition, bytes, false, 'definition') as PbDefinition;
  const def: Definition = { def: pb.def ?? [], metadata: pb.metadata ?? {} };
  if (pb.source) def.source = pb.source;
  return def;
}
