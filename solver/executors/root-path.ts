// Resolving a path inside a container's root directory the way the kernel would after a chroot:
// every symlink, absolute or with `..`, is followed relative to the root and never leaves it
// (native/confine, the one implementation the runner and kiln-ns use too).
import path from 'node:path';
import { UserError } from '../../errors/kiln-error.js';
import { native } from '../../native/binding.js';
import { hasCode } from '../../native/native-error.js';

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
  try {
    return await native.resolveInRoot(root, p, opts.followLast ?? true);
  } catch (err) {
    if (hasCode(err, 'ELOOP')) throw new SymlinkLoopError(p);
    throw err;
  }
}

/** Whether host path `p` is `dir` or below it. */
export function isWithin(dir: string, p: string): boolean {
  const rel = path.relative(dir, p);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}
