// Telling a full disk from other failures, and naming the device: a step that fills the disk
// fails as "no space left on the device holding <store>", never as an internal error.
import { readFileSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import path from 'node:path';
import { hasCode } from '../native/native-error.js';
import { DiskFullError } from './errors.js';

// A filesystem with less than this left (to root) counts as full: a process that hit ENOSPC
// leaves at most a partial block or two behind.
const FULL_BELOW_BYTES = 1 << 20;

/** Whether `err` is the kernel's ENOSPC, from Node's fs or from the native addon (both set `code`), or already kiln's DiskFullError. */
export function isNoSpace(err: unknown): boolean {
  return hasCode(err, 'ENOSPC') || err instanceof DiskFullError;
}

/** Whether the filesystem holding `dir` is (nearly) out of space. */
export async function isFull(dir: string): Promise<boolean> {
  try {
    const s = await statfs(dir);
    return s.bfree * s.bsize < FULL_BELOW_BYTES;
  } catch {
    return false;
  }
}

/** The mount holding `dir`: its mount point and filesystem type, from /proc/self/mountinfo. */
export function mountOf(dir: string): { mountPoint: string; fsType: string } {
  const abs = path.resolve(dir);
  let best = { mountPoint: '/', fsType: 'unknown' };
  let text = '';
  try {
    text = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return best;
  }
  for (const line of text.split('\n')) {
    // id parent maj:min root mountpoint options [optional…] - fstype source superoptions
    const fields = line.split(' ');
    const mp = fields[4]?.replace(/\\040/g, ' ');
    const sep = fields.indexOf('-');
    if (mp === undefined || sep < 0) continue;
    const inside = mp === '/' || abs === mp || abs.startsWith(mp + '/');
    if (inside && mp.length >= best.mountPoint.length) best = { mountPoint: mp, fsType: fields[sep + 1] ?? 'unknown' };
  }
  return best;
}

/** `err` as a DiskFullError for the store at `root` when it is ENOSPC; otherwise `err` itself. */
export function asDiskFull(err: unknown, root: string, what: string): unknown {
  if (!isNoSpace(err) || err instanceof DiskFullError) return err;
  return new DiskFullError(root, mountOf(root), what, err);
}
