// Opening kiln's image store and its snapshots, as every operation of the library begins: the
// root given, else $KILN_ROOT, else /var/lib/kiln; the snapshot driver asked for, else auto.
import { Store } from '../snapshotter/store.js';
import { DEFAULT_ROOT, resolveRoot } from '../snapshotter/root.js';
import type { Snapshotter, SnapshotDriver } from '../snapshotter/snapshots.js';
import { openSnapshotter } from '../snapshotter/open-snapshotter.js';
import { OptionError } from './errors.js';

export { DEFAULT_ROOT, Store };
export type { Snapshotter, SnapshotDriver };

export const SNAPSHOT_DRIVERS = ['overlay', 'copy', 'auto'] as const;
export type SnapshotDriverChoice = (typeof SNAPSHOT_DRIVERS)[number];

export function openStore(root?: string, env: NodeJS.ProcessEnv = process.env): Promise<Store> {
  return Store.open(resolveRoot(root, env));
}

/**
 * The store's snapshots with the driver asked for (`$KILN_SNAPSHOTTER` when not given); `log`
 * gets the one line that explains a fallback from overlay to copies.
 */
export function openSnapshots(store: Store, opts: { driver?: string; env?: NodeJS.ProcessEnv; log?: (line: string) => void } = {}): Promise<Snapshotter> {
  const asked = opts.driver ?? (opts.env ?? process.env).KILN_SNAPSHOTTER ?? 'auto';
  const driver = SNAPSHOT_DRIVERS.find((d) => d === asked);
  if (!driver) throw new OptionError('snapshotter', asked, 'use overlay, copy or auto');
  return openSnapshotter(store.root, { driver, ...(opts.log ? { log: opts.log } : {}) });
}
