// What a process killed mid-write leaves in a store, cleared by the next kiln that opens it:
// snapshot directories it was making (named by their creation marker), directories it was
// removing, its temp files in ingest/, and its leases. Mounts it left are swept by the overlay
// driver. Only what a process that no longer runs left is touched.
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { dirEntries } from './dir-entries.js';
import { cleanIngest } from './ingest.js';
import { Leases } from './leases.js';
import { ownerAlive } from './lock.js';
import type { SnapshotMeta } from './snapshot-meta.js';

const MARKER = /^([0-9a-f]{16})\.creating-(.+)$/;

/** What a recovery cleared. */
export interface Recovered {
  snapshotDirs: number;
  tempFiles: number;
  leases: number;
}

export async function recoverStore(root: string, meta: SnapshotMeta): Promise<Recovered> {
  const dead: { id: string; marker: string }[] = [];
  for (const name of await dirEntries(meta.dir)) {
    if (name.startsWith('.removing-')) await rm(path.join(meta.dir, name), { recursive: true, force: true }).catch(() => undefined);
    const m = MARKER.exec(name);
    if (m && !ownerAlive(m[2]!)) dead.push({ id: m[1]!, marker: path.join(meta.dir, name) });
  }
  let snapshotDirs = 0;
  if (dead.length > 0) {
    await meta.locked(async () => {
      // The maker may have been killed after its record was written but before the marker went.
      // With an unreadable record that cannot be told: the directories stay for `store verify`.
      const { records, unreadable } = await meta.scan();
      if (unreadable.length > 0) return;
      const recorded = new Set(records.map((r) => r.id));
      for (const { id, marker } of dead) {
        if (!recorded.has(id)) {
          await rm(meta.snapshotDir(id), { recursive: true, force: true });
          snapshotDirs++;
        }
        await rm(marker, { force: true });
      }
    });
  }
  const { files } = await cleanIngest(root);
  return { snapshotDirs, tempFiles: files, leases: await new Leases(root).dropEnded() };
}
