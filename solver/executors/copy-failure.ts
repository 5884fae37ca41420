// Which failures of a COPY or ADD are the user's (their paths, their archive) and so the step's
// one-line CopyError; a full disk, other OS trouble and bugs go on as they are, so the solve names
// the device or the CLI shows the stack.
import { KilnError } from '../../errors/kiln-error.js';
import { errnoOf } from '../../errors/os-error.js';
import { CopyError } from './errors.js';

/** Errnos that the Dockerfile's own paths cause: a destination in the way, a name too long, a link loop. */
const LAYOUT_ERRNOS = new Set(['EEXIST', 'EISDIR', 'ENOTDIR', 'ENOTEMPTY', 'ENAMETOOLONG', 'ELOOP']);

/**
 * `err` as the step's CopyError when the user caused it: a layout errno, or what `users` (given
 * the errno, if any) recognises as the user's for this copier; otherwise `err` itself.
 */
export function asCopyFailure(step: string, err: unknown, users: (err: Error, errno: string | undefined) => boolean): unknown {
  if (err instanceof KilnError || !(err instanceof Error)) return err;
  const errno = errnoOf(err);
  return (errno !== undefined && LAYOUT_ERRNOS.has(errno)) || users(err, errno) ? new CopyError(step, err.message) : err;
}
