// The --root flag every command that uses the image store takes, and opening the store it names
// (--root, else $KILN_ROOT, else /var/lib/kiln); --snapshotter for the commands that make snapshots.
import type { ParseArgsConfig } from 'node:util';
import path from 'node:path';
import type { CliIO } from './command.js';
import { Store } from '../snapshotter/store.js';
import { DEFAULT_ROOT, resolveRoot } from '../snapshotter/root.js';
import { openSnapshotter, type Snapshotter } from '../snapshotter/snapshots.js';
import { UsageError } from './errors.js';

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

export const snapshotterFlagOptions = {
  snapshotter: { type: 'string' },
} as const satisfies ParseArgsConfig['options'];

export const snapshotterUsage = `      --snapshotter D   overlay, copy or auto (default: $KILN_SNAPSHOTTER, else auto: overlay
                        where it mounts, else copy); a store keeps the driver it started with`;

const DRIVERS = ['overlay', 'copy', 'auto'] as const;

/** Opens the store's snapshots with the driver the flag (or $KILN_SNAPSHOTTER) asks for. */
export function openSnapshots(values: { snapshotter?: string }, io: CliIO, store: Store): Promise<Snapshotter> {
  const asked = values.snapshotter ?? io.env.KILN_SNAPSHOTTER ?? 'auto';
  const driver = DRIVERS.find((d) => d === asked);
  if (!driver) throw new UsageError(`--snapshotter=${asked}: use overlay, copy or auto`);
  return openSnapshotter(store.root, { driver, log: (line) => io.stderr.write(line + '\n') });
}
