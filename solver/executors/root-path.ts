// Resolving a path inside a container's root directory the way the kernel would after a chroot:
// every symlink, absolute or with `..`, is followed relative to the root and never leaves it.
import { lstat, readlink } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../../errors/kiln-error.js';

/** Linux's limit on links followed while resolving one path. */
const MAX_LINKS = 40;

export class SymlinkLoopError extends UserError {
  readonly code = 'KILN_SYMLINK_LOOP';
  constructor(p: string) {
    super(`too many levels of symbolic links resolving ${p} inside the image`, { hint: `fix the links` });
    this.name = 'SymlinkLoopError';
  }
}

/**
 * The host path of `p` (read as absolute inside `root`), following symlinks within the root;
 * the last component's link is followed only with `followLast`. Missing components are kept
 * as written, so the result is where a new file would be created.
 */
export async function resolveInRoot(root: string, p: string, opts: { followLast?: boolean } = {}): Promise<string> {
  const followLast = opts.followLast ?? true;
  let pending = p.split('/').filter((c) => c !== '' && c !== '.');
  const done: string[] = [];
  let links = 0;
  let missing = false;
  while (pending.length > 0) {
    const name = pending.shift()!;
    if (name === '..') {
      done.pop();
      continue;
    }
    done.push(name);
    if (missing || (pending.length === 0 && !followLast)) continue;
    const host = path.join(root, ...done);
    const st = await lstat(host).catch(() => undefined);
    if (st === undefined) {
      missing = true;
      continue;
    }
    if (!st.isSymbolicLink()) continue;
    if (++links > MAX_LINKS) throw new SymlinkLoopError(p);
    const target = await readlink(host);
    done.pop();
    if (target.startsWith('/')) done.length = 0;
    pending = [...target.split('/').filter((c) => c !== '' && c !== '.'), ...pending];
  }
  return path.join(root, ...done);
}

/** Whether host path `p` is `dir` or below it. */
export function isWithin(dir: string, p: string): boolean {
  const rel = path.relative(dir, p);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}
