// The types the solver core and the op executors share: what an op runs in (SolveEnv), what it
// returns (OpResult), how it plugs in (OpExecutor) and the progress events a solve emits.
import type { Op } from './llb/types.js';
import type { Store } from '../snapshotter/store.js';
import type { Snapshotter } from '../snapshotter/snapshots.js';
import type { Platform } from '../oci/image-spec.js';
import type { TreeScan } from '../native/scan-tree.js';

/** A committed snapshot key; null = empty (scratch). */
export interface OpResult {
  snapshot: string | null;
}

/** Everything an op executor may use. */
export interface SolveEnv {
  store: Store;
  /** solve() hands executors one that marks every snapshot it makes with `lease`. */
  snapshotter: Snapshotter;
  /**
   * The store lease this solve holds what it uses by (store.leases, created `owned`): the
   * snapshots it makes, the cached ones it reuses and the base images it reads, so a concurrent
   * prune or rmi cannot take them.
   */
  lease: string;
  root: string;
  /** The local source named "context" (other local names → error). */
  contextDir: string;
  /** A walk of contextDir begun before the solve (see startContextScan), so it overlaps compiling. */
  contextScan?: Promise<TreeScan>;
  /** --secret id → bytes (never written to a layer, cache or log). */
  secrets: Map<string, Buffer>;
  signal: AbortSignal;
  platform: Platform;
  /** Makes the store hold an image source's image for a platform (pulling it); none: the store's only. */
  ensureImage?: (ref: string, platform: Platform) => Promise<void>;
  emit(e: SolveEvent): void;
}

export interface VertexInfo {
  digest: string;
  op: Op;
  /** llb.customname or a derived name. */
  name: string;
  inputs: { vertex: VertexInfo; index: number }[];
}

export interface OpExecutor {
  /** Extra cache-key material known before running: the content checksum of the selected context files, an image's manifest digest. */
  contentKey?(v: VertexInfo, env: SolveEnv): Promise<string | undefined>;
  /** Runs the op on its inputs' results (in `op.inputs` order) and returns one result per output index. */
  run(v: VertexInfo, inputs: OpResult[], env: SolveEnv, log: (stream: 'stdout' | 'stderr', chunk: Buffer) => void): Promise<OpResult[]>;
}

export type SolveEvent =
  /** `inputs`: the digests of the vertices this one reads, as BuildKit's progress names them. */
  | { type: 'vertex.start'; digest: string; name: string; inputs: string[]; time: number }
  | { type: 'vertex.cached'; digest: string; name: string; inputs: string[]; time: number }
  | { type: 'vertex.done'; digest: string; name: string; time: number; durationMs: number }
  | { type: 'vertex.error'; digest: string; name: string; time: number; error: string }
  | { type: 'vertex.log'; digest: string; stream: 'stdout' | 'stderr'; data: string; time: number }
  | { type: 'export.start' | 'export.done'; what: string; time: number };
