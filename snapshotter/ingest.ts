// <root>/ingest/: every store write lands here first and is renamed into place once complete, so a
// crash leaves only a temp file; its name carries the writer, so prune can tell a dead one's leftovers.
import { lstat, rm } from 'node:fs/promises';
import { dirEntries } from './dir-entries.js';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { currentOwner, ownerAlive } from './lock.js';

export function ingestDir(root: string): string {
  return path.join(root, 'ingest');
}

/** A fresh temp path in ingest/, named `<owner>-<random>`. */
export function ingestPath(root: string): string {
  return path.join(ingestDir(root), `${currentOwner()}-${randomBytes(8).toString('hex')}`);
}

/**
 * Deletes temp files whose writer no longer runs. Files of live processes (this one included)
 * are writes in progress and stay.
 */
export async function cleanIngest(root: string): Promise<{ files: number; bytes: number }> {
  const names = await dirEntries(ingestDir(root));
  let files = 0;
  let bytes = 0;
  for (const name of names) {
    const owner = name.split('-')[0] ?? '';
    if (owner === currentOwner() || ownerAlive(owner)) continue;
    const file = path.join(ingestDir(root), name);
    try {
      const st = await lstat(file);
      // A writer may have staged a directory here; its size is not counted.
      await rm(file, { recursive: true, force: true });
      files++;
      if (st.isFile()) bytes += st.size;
    } catch (err) {
      // Another prune got there first.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  return { files, bytes };
}
