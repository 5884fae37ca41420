// A committed snapshot as a gzip layer blob in the store: the layer engine diffs it against its
// parents and the blob joins the caller's lease before it is stored, so a GC running meanwhile
// cannot take it. Every snapshot-to-layer export (build, commit) goes through here.
import { unlink } from 'node:fs/promises';
import { native } from '../native/binding.js';
import type { Store } from '../snapshotter/store.js';
import type { Snapshotter } from '../snapshotter/snapshots.js';
import type { LayerLabel } from '../snapshotter/unpack.js';
import { ingestPath } from '../snapshotter/ingest.js';

export interface SnapshotLayerOptions {
  /** The lease that holds the blob until an image record names it. */
  lease: string;
  /** Clamp file mtimes to this (seconds), for reproducible layers. */
  sourceDateEpoch?: number;
}

export async function snapshotLayer(store: Store, snapshotter: Snapshotter, key: string, opts: SnapshotLayerOptions): Promise<LayerLabel> {
  const output = ingestPath(store.root);
  const parents = snapshotter.parentDirs(key);
  try {
    const info = await native.diffLayer({
      upper: snapshotter.upperDir(key),
      ...(parents.length > 0 ? { lowers: parents } : {}),
      driver: snapshotter.driver,
      output,
      compression: 'gzip',
      ...(opts.sourceDateEpoch !== undefined ? { sourceDateEpoch: opts.sourceDateEpoch } : {}),
    });
    await store.leases.add(opts.lease, { kind: 'blob', key: info.digest });
    await store.content.ingestFile(output, { expected: info.digest, move: true });
    return { digest: info.digest, diffId: info.diffId, size: info.size, mediaType: info.mediaType };
  } finally {
    await unlink(output).catch(() => undefined);
  }
}
