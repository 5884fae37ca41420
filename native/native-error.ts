// The codes the addon's errors carry (native/src/error.rs): the errno's name (`ENOENT`, `ENOSPC`)
// when a syscall failed, else one of kiln's own below, so callers branch on codes, never on text.

/** What the addon rejects with: an Error with a code, and Node's negative errno when the kernel gave one. */
export interface NativeError extends Error {
  code: string;
  errno?: number;
  /** The layer or archive entry being handled, when the failure belongs to one. */
  entry?: string;
}

/** `unmount` of a path that is not a mount point. */
export const NOT_A_MOUNT = 'KILN_NOT_A_MOUNT';
/** A layer entry the layer itself got wrong: outside the target, through a symlink, malformed. */
export const LAYER_ENTRY = 'KILN_LAYER_ENTRY';
/** A failure the kernel did not name (a corrupt stream, say). */
export const NATIVE_FAILURE = 'KILN_NATIVE';
/** Options that make no sense (an unknown driver or compression). */
export const INVALID_ARG = 'KILN_INVALID_ARG';

/** Whether `err` is an error with `code` (from the addon, or Node's own fs). */
export function hasCode(err: unknown, code: string): err is NativeError {
  return err instanceof Error && (err as Partial<NativeError>).code === code;
}
