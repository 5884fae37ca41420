// The --root flag every command that uses the image store takes, and opening the store it names
// (--root, else $KILN_ROOT, else /var/lib/kiln); --snapshotter for the commands that make snapshots.
import type { ParseArgsConfig } from 'node:util';
import path from 'node:path';
import type { CliIO } from './command.js';
import { DEFAULT_ROOT, openSnapshots as openSnapshotsOf, openStore as openStoreAt, type Snapshotter, type Store } from '../api/index.js';

export const storeFlagOptions = {
  root: { type: 'string' },
} as const satisfies ParseArgsConfig['options'];

/** The line to put in a command's usage under Options. */
export const rootUsage = `      --root DIR        Image store directory (default: $KILN_ROOT, else ${DEFAULT_ROOT})`;

/** Opens the store the flags name; a relative --root is taken from the command's working directory. */
export function openStore(values: { root?: string }, io: CliIO): Promise<Store> {
  return openStoreAt(values.root ? path.resolve(io.cwd, values.root) : undefined, io.env);
}

export const snapshotterFlagOptions = {
  snapshotter: { type: 'string' },
} as const satisfies ParseArgsConfig['options'];

export const snapshotterUsage = `      --snapshotter D   overlay, copy or auto (default: $KILN_SNAPSHOTTER, else auto: overlay
                        where it mounts, else copy); a store keeps the driver it started with`;

/** Opens the store's snapshots with the driver the flag (or $KILN_SNAPSHOTTER) asks for. */
export function openSnapshots(values: { snapshotter?: string }, io: CliIO, store: Store): Promise<Snapshotter> {
  return openSnapshotsOf(store, { ...(values.snapshotter !== undefined ? { driver: values.snapshotter } : {}), env: io.env, log: (line) => io.stderr.write(line + '\n') });
}
