// RUN --mount=type=cache directories: persistent under <root>/cache-mounts/<sha256(id)>, shared
// freely, held exclusively (`locked`), or replaced by another instance while in use (`private`).
import { createHash } from 'node:crypto';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { native } from '../../native/binding.js';
import { tryLock } from '../../snapshotter/lock.js';
import { CacheSharingOpt } from '../llb/types.js';

export interface CacheMount {
  dir: string;
  release(): Promise<void>;
}

export interface CacheMountRequest {
  root: string;
  id: string;
  sharing: number;
  /** A tree to start a new cache from (the mount's `from`, or the uid/gid/mode directory the frontend made). */
  seed?: string;
  signal: AbortSignal;
}

const POLL_MS = 100;

export async function acquireCacheMount(req: CacheMountRequest): Promise<CacheMount> {
  const base = path.join(req.root, 'cache-mounts', createHash('sha256').update(req.id).digest('hex'));
  await mkdir(path.dirname(base), { recursive: true });
  if (req.sharing === CacheSharingOpt.SHARED) return { dir: await ensure(base, req.seed), release: async () => undefined };
  if (req.sharing === CacheSharingOpt.PRIVATE) {
    // Each holder gets its own instance; instances persist, so a later build reuses a free one.
    for (let n = 0; ; n++) {
      const dir = n === 0 ? base : `${base}-${n}`;
      const release = await tryLock(`${dir}.lock`);
      if (release) return { dir: await ensure(dir, req.seed), release };
    }
  }
  for (;;) {
    req.signal.throwIfAborted();
    const release = await tryLock(`${base}.lock`);
    if (release) return { dir: await ensure(base, req.seed), release };
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

async function ensure(dir: string, seed: string | undefined): Promise<string> {
  // A cache dir only appears by rename, fully seeded.
  if ((await stat(dir).catch(() => undefined))?.isDirectory()) return dir;
  const tmp = `${dir}.new-${process.pid}-${Date.now()}`;
  if (seed !== undefined) await native.cloneTree(seed, tmp);
  else await mkdir(tmp, { mode: 0o755 });
  await rename(tmp, dir).catch(async (err: NodeJS.ErrnoException) => {
    // Someone else created it meanwhile: theirs wins.
    await rm(tmp, { recursive: true, force: true });
    if (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') throw err;
  });
  return dir;
}
