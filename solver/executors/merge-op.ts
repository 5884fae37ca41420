// The merge op (COPY --link): the first input's tree with each later input's tree laid over it in
// order, committed as one new snapshot on the first input, so the export gets the later inputs'
// files as a layer of their own.
import { randomBytes } from 'node:crypto';
import { chmod, lchown, lstat, lutimes, mkdir, readdir, rename, rm, rmdir } from 'node:fs/promises';
import path from 'node:path';
import { native } from '../../native/binding.js';
import type { OpExecutor, OpResult } from '../types.js';
import { SnapshotWork } from './snapshot-work.js';

export const mergeOp: OpExecutor = {
  async run(v, inputs, env) {
    const ordered: OpResult[] = (v.op.merge?.inputs ?? []).map((m) => inputs[m.input ?? 0] ?? { snapshot: null });
    if (ordered.length === 0) return [{ snapshot: null }];
    const work = new SnapshotWork(env.snapshotter, v.digest);
    const keep = new Set<string>();
    try {
      const { key, dir } = await work.active(ordered[0]!.snapshot);
      for (const input of ordered.slice(1)) {
        env.signal.throwIfAborted();
        // A scratch input adds nothing.
        if (input.snapshot === null) continue;
        await layOver(await work.view(input.snapshot), dir);
      }
      const snapshot = await work.commit(key);
      keep.add(snapshot);
      return [{ snapshot }];
    } finally {
      await work.cleanup(keep);
    }
  },
};

/**
 * Lays the whole tree `src` over `dest`, as applying it as a layer would: its entries replace
 * what is at their paths, directories present on both sides are merged and take src's metadata
 * (mode, owner, times; a directory's xattrs are not carried over).
 * BuildKit's merge also replays deletions an input made to its own lower layers; the frontend
 * only merges inputs built on scratch (a --link copy), which delete nothing, so the full tree of
 * each input is exactly what it contributes.
 */
async function layOver(src: string, dest: string): Promise<void> {
  // Cloned inside dest first, so every non-directory then moves into place by rename on the
  // same filesystem (hard links within the input stay linked).
  const staged = path.join(dest, `.kiln-merge-${randomBytes(6).toString('hex')}`);
  await native.cloneTree(src, staged);
  try {
    await moveContents(staged, dest);
  } finally {
    await rm(staged, { recursive: true, force: true });
  }
}

async function moveContents(from: string, to: string): Promise<void> {
  for (const name of await readdir(from)) {
    const a = path.join(from, name);
    const b = path.join(to, name);
    const [sa, sb] = [await lstat(a), await lstat(b).catch(() => undefined)];
    if (sa.isDirectory()) {
      // Directories are made, not renamed in: overlay marks a directory moved into a merged
      // parent opaque, which would put a needless opaque marker in the layer.
      if (!sb?.isDirectory()) {
        if (sb) await rm(b, { force: true });
        await mkdir(b);
      }
      await moveContents(a, b);
      // Metadata last: moving children in changed the directory's mtime.
      await chmod(b, sa.mode & 0o7777);
      await lchown(b, sa.uid, sa.gid);
      await lutimes(b, sa.atime, sa.mtime);
      await rmdir(a);
      continue;
    }
    if (sb) await rm(b, { recursive: true, force: true });
    await rename(a, b);
  }
}
