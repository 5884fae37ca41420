// `verifyStore()`: the whole store checked (fsck) — blobs, image records, snapshots, leases, the
// build cache and layer indexes, leftovers of killed processes — and, with `repair`, mended: what
// nothing valid refers to is removed, damaged images are marked, never deleted. Meant for a store
// no build is using: a build in progress can show as a snapshot being made.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { openSnapshotter } from '../snapshotter/open-snapshotter.js';
import type { Store } from '../snapshotter/store.js';
import { recoverLeftovers, verifyBlobs, verifyImages, verifyMounts, verifySnapshots, type StoreProblem } from '../snapshotter/verify.js';
import type { Recovered } from '../snapshotter/recovery.js';
import { CacheIndex } from '../solver/cache-index.js';
import { LayerIndex } from '../exporter/layer-index.js';

export type { StoreProblem, ProblemArea } from '../snapshotter/verify.js';
export type { Recovered } from '../snapshotter/recovery.js';

export interface VerifyResult {
  /** Blobs re-hashed. */
  blobs: number;
  /** What processes that were killed left, cleared first as every kiln start clears it. */
  recovered: Recovered;
  problems: StoreProblem[];
  /** With `repair`: the problems repaired (the rest need the user: see each problem). */
  repaired: number;
}

export async function verifyStore(store: Store, opts: { repair?: boolean } = {}): Promise<VerifyResult> {
  const hasSnapshots = await stat(path.join(store.root, 'snapshots')).then(() => true, () => false);
  // As every kiln start does: a killed process's snapshot dirs, temp files and leases go (and,
  // opening the snapshots, its mounts); what is left after that is reported.
  const recovered = await recoverLeftovers(store.root);
  if (hasSnapshots) await openSnapshotter(store.root, { log: () => undefined });
  const problems: StoreProblem[] = await verifyMounts(store.root);
  const blobs = await verifyBlobs(store);
  problems.push(...blobs.problems, ...(await verifyImages(store, blobs.corrupt)));
  const snapshots = await verifySnapshots(store.root);
  problems.push(...snapshots.problems);

  const cache = await CacheIndex.open(store.root);
  const dead = cache.deadKeys(snapshots.committed);
  if (dead.length > 0) {
    problems.push({
      area: 'cache',
      subject: path.join(store.root, 'cache', 'index.json'),
      problem: `${dead.length} build cache record(s) name snapshots that are gone or damaged`,
      repair: { what: 'dropped', run: async () => void (await cache.forgetMissing(await openSnapshotter(store.root, { log: () => undefined }))) },
    });
  }
  const layers = await LayerIndex.open(store.root);
  const unbacked = await layers.missingBlobs(async (d) => !blobs.corrupt.has(d) && (await store.content.has(d)));
  if (unbacked.length > 0) {
    problems.push({
      area: 'cache',
      subject: path.join(store.root, 'cache', 'layers.json'),
      problem: `${unbacked.length} layer record(s) name blobs that are missing or corrupt`,
      repair: { what: 'dropped', run: () => layers.forget(unbacked) },
    });
  }

  let repaired = 0;
  if (opts.repair) {
    // Blobs and snapshots first, so the records dropped after them see the store as it now is.
    for (const p of problems) {
      if (!p.repair) continue;
      await p.repair.run();
      repaired++;
    }
  }
  return { blobs: blobs.checked, recovered, problems, repaired };
}
