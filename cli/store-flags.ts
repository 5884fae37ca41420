// The --root flag every command that uses the image store takes, and opening the store it names
// (--root, else $KILN_ROOT, else /var/lib/kiln).
import type { ParseArgsConfig } from 'node:util';
import path from 'node:path';
import type { CliIO } from './command.js';
import { Store } from '../snapshotter/store.js';
import { DEFAULT_ROOT, resolveRoot } from '../snapshotter/root.js';

export const storeFlagOptions = {
  root: { type: 'string' },
} as const satisfies ParseArgsConfig['options'];

/** The line to put in a command's usage under Options. */
export const rootUsage = `      --root DIR        Image store directory (default: $KILN_ROOT, else ${DEFAULT_ROOT})`;

/** Opens the store the flags name; a relative --root is taken from the command's working directory. */
export function openStore(values: { root?: string }, io: CliIO): Promise<Store> {
  const flag = values.root ? path.resolve(io.cwd, values.root) : undefined;
  return Store.open(resolveRoot(flag, io.env));
}
