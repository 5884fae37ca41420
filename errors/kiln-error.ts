// The one base of kiln's typed errors. Callers branch on `code` (stable, never on the message)
// and on `userFacing`: true for what a user or their machine caused (shown as the message alone,
// one line), false for a broken invariant of kiln (shown with its stack, as a bug).
// This room imports nothing of ours, so every room, the leaf ones included, can build on it.

export interface KilnErrorOptions {
  /** What to do about it; appended to the message after `; `, and kept apart for library callers. */
  hint?: string;
  /** The error this one explains (a Node or native error), kept for library callers and debugging. */
  cause?: unknown;
}

export abstract class KilnError extends Error {
  abstract readonly code: string;
  abstract readonly userFacing: boolean;
  declare readonly hint?: string;
  /** Lines shown above the message, as they are (a failed step's output, the Dockerfile lines around it). */
  declare readonly detail?: string;

  constructor(message: string, options: KilnErrorOptions = {}) {
    super(options.hint === undefined ? message : `${message}; ${options.hint}`, options.cause === undefined ? undefined : { cause: options.cause });
    if (options.hint !== undefined) this.hint = options.hint;
  }
}

/** A mistake a user can fix, or trouble of their machine (a full disk, a missing image). */
export abstract class UserError extends KilnError {
  readonly userFacing = true;
}

/** A typed error that is kiln's own bug: it keeps its stack when shown. */
export abstract class InternalError extends KilnError {
  readonly userFacing = false;
}

/** Whether `err` is one of ours that a user caused, so it is shown as one line, not as a bug. */
export function isUserError(err: unknown): err is KilnError {
  return err instanceof KilnError && err.userFacing;
}
