// Vertices of the graph under construction and the outputs that link them. A vertex is
// immutable: its inputs are fixed when it is made, so its bytes and digest are computed once.
import { marshalOp, opDigest, unmarshalOp } from './marshal.js';
import type { Op, OpMetadata } from './types.js';
import type { Platform } from '../../oci/image-spec.js';

export interface Vertex {
  /** The outputs this op reads, in the order BuildKit's marshal visits them. */
  readonly inputs: Output[];
  digest(): string;
  marshal(): Uint8Array;
  readonly metadata: OpMetadata;
  /** The op as decoded from its own bytes (no defaults present). */
  readonly op: Op;
}

/** One output of an op; `index` is the output index an Input names. */
export class Output {
  constructor(readonly vertex: Vertex, readonly index: number) {}
  digest(): string {
    return this.vertex.digest();
  }
}

/** null is scratch: the empty filesystem, which is no op at all. */
export type State = Output | null;

export interface OpOptions {
  platform?: Platform;
  description?: Record<string, string>;
  ignoreCache?: boolean;
  progressGroup?: { id: string; name: string; weak?: boolean };
}

export class OpVertex implements Vertex {
  private readonly bytes: Uint8Array;
  private readonly dgst: string;
  private decoded: Op | undefined;

  constructor(op: Op, readonly inputs: Output[], readonly metadata: OpMetadata) {
    this.bytes = marshalOp(op);
    this.dgst = opDigest(this.bytes);
  }

  /** Decoded on first use: builds only need the bytes, tests and tools read the op. */
  get op(): Op {
    return (this.decoded ??= unmarshalOp(this.bytes));
  }

  digest(): string {
    return this.dgst;
  }

  marshal(): Uint8Array {
    return this.bytes;
  }
}

export function metadataOf(opts: OpOptions | undefined): OpMetadata {
  const md: OpMetadata = {};
  if (opts?.ignoreCache) md.ignoreCache = true;
  if (opts?.description && Object.keys(opts.description).length) md.description = { ...opts.description };
  if (opts?.progressGroup) md.progressGroup = { ...opts.progressGroup };
  return md;
}

/** Inputs are deduplicated by value (digest and index), as BuildKit does with proto.Equal. */
export class InputList {
  readonly inputs: { digest: string; index: number }[] = [];

  add(o: Output): number {
    const digest = o.digest();
    const i = this.inputs.findIndex((x) => x.digest === digest && x.index === o.index);
    if (i >= 0) return i;
    this.inputs.push({ digest, index: o.index });
    return this.inputs.length - 1;
  }
}
