// The errno name (`ENOENT`, `ENOSPC`) of an operating-system error, whether Node's fs raised it
// (its `code`) or the native addon did (its io::Error text ends in "(os error N)" until the addon
// carries the code itself), so callers tell a user's doing from a bug by errno, not by message.
import { constants } from 'node:os';

const NAMES = new Map<number, string>(Object.entries(constants.errno).map(([name, n]) => [n, name]));

/** The errno name of `err`, or undefined when it is no OS error (a bug, or a refusal of kiln's own). */
export function errnoOf(err: unknown): string | undefined {
  if (!(err instanceof Error)) return undefined;
  const code = (err as NodeJS.ErrnoException).code;
  if (typeof code === 'string' && /^E[A-Z0-9]+$/.test(code)) return code;
  const native = /\(os error (\d+)\)/.exec(err.message);
  return native ? (NAMES.get(Number(native[1])) ?? `errno ${native[1]}`) : undefined;
}
