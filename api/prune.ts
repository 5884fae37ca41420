// `prune`: the build cache's snapshots, and the blobs and snapshots no image, container or running
// build needs, then the cache and layer records whose snapshots or blobs went.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { collectGarbage } from '../snapshotter/gc.js';
import { openSnapshotter } from '../snapshotter/open-snapshotter.js';
import type { Store } from '../snapshotter/store.js';
import { CacheIndex } from '../solver/cache-index.js';
import { LayerIndex } from '../exporter/layer-index.js';

export interface PruneResult {
  blobs: number;
  snapshots: number;
  cacheRecords: number;
  bytes: number;
}

export async function prune(store: Store): Promise<PruneResult> {
  // A store that never held a snapshot has no snapshotter to open (and no overlay probe to pay for).
  const hasSnapshots = await stat(path.join(store.root, 'snapshots')).then(() => true, () => false);
  const snapshots = hasSnapshots ? await openSnapshotter(store.root) : undefined;
  const r = await collectGarbage(store, snapshots && { snapshots });
  const cacheRecords = snapshots ? await (await CacheIndex.open(store.root)).forgetMissing(snapshots) : 0;
  // Layer records of blobs the collection took would only send a rebuild to a missing blob.
  const layers = await LayerIndex.open(store.root);
  const unbacked = await layers.missingBlobs((d) => store.content.has(d));
  if (unbacked.length > 0) await layers.forget(unbacked);
  return { blobs: r.blobs, snapshots: r.snapshots, cacheRecords, bytes: r.bytes };
}
