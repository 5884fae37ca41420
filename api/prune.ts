// `prune`: the build cache's snapshots, and the blobs and snapshots no image, container or running
// build needs, the cache and layer records that name them first.
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
  const cache = await CacheIndex.open(store.root);
  const layers = await LayerIndex.open(store.root);
  let cacheRecords = 0;
  const r = await collectGarbage(store, {
    ...(snapshots ? { snapshots } : {}),
    // The records go before what they name: a prune killed midway leaves garbage for the next
    // one, never a cache or layer record of something gone.
    beforeSweep: async (doomed) => {
      cacheRecords = await cache.forgetSnapshots(doomed.snapshots);
      await layers.forgetBlobs(doomed.blobs);
    },
  });
  return { blobs: r.blobs, snapshots: r.snapshots, cacheRecords, bytes: r.bytes };
}
