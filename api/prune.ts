// `prune`: the build cache's snapshots, and the blobs and snapshots no image, container or running
// build needs, the cache and layer records that name them first.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { collectGarbage, type Doomed } from '../snapshotter/gc.js';
import { isNoSpace } from '../snapshotter/disk-full.js';
import { openSnapshotter } from '../snapshotter/open-snapshotter.js';
import type { Store } from '../snapshotter/store.js';
import { CacheIndex } from '../solver/cache-index.js';
import { LayerIndex } from '../exporter/layer-index.js';
import { CompressedLayers } from '../exporter/compressed-layers.js';

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
  const compressed = await CompressedLayers.open(store.root);
  let cacheRecords = 0;
  let doomed: Doomed | undefined;
  const forget = async (d: Doomed) => {
    cacheRecords = await cache.forgetSnapshots(d.snapshots);
    await layers.forgetBlobs(d.blobs);
    await compressed.forgetBlobs(d.blobs);
  };
  const r = await collectGarbage(store, {
    ...(snapshots ? { snapshots } : {}),
    // The records go before what they name: a prune killed midway leaves garbage for the next
    // one, never a cache or layer record of something gone. On a full disk the records cannot be
    // rewritten until space is freed: then they go after it.
    beforeSweep: async (d) => {
      try {
        await forget(d);
      } catch (err) {
        if (!isNoSpace(err)) throw err;
        doomed = d;
      }
    },
  });
  if (doomed) await forget(doomed);
  return { blobs: r.blobs, snapshots: r.snapshots, cacheRecords, bytes: r.bytes };
}
