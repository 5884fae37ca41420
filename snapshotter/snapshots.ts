// Snapshots in the containerd sense (active → committed chains, read-only views): the interface
// every driver implements and every room uses. Opening one for a store is open-snapshotter.ts.

export type SnapshotKind = 'active' | 'view' | 'committed';

export interface SnapshotInfo {
  key: string;
  parent?: string;
  kind: SnapshotKind;
  /** ISO 8601; for a committed snapshot, when it was committed. */
  created: string;
  labels: Record<string, string>;
}

export interface Mounted {
  /** The snapshot's tree, ready to read (and write, for an active one). */
  dir: string;
  /** Unmounts (overlay) and forgets the mount; safe to call twice. */
  release(): Promise<void>;
}

export type SnapshotDriver = 'overlay' | 'copy';

export interface Snapshotter {
  readonly driver: SnapshotDriver;
  /** A writable snapshot stacked on the committed chain of `parent` (none = empty). */
  prepare(key: string, parent?: string, opts?: { labels?: Record<string, string> }): Promise<void>;
  /** A read-only snapshot of `parent`. */
  view(key: string, parent?: string, opts?: { labels?: Record<string, string> }): Promise<void>;
  /** Freezes active `key` as committed `name`; `key` stops existing. */
  commit(name: string, key: string, opts?: { labels?: Record<string, string> }): Promise<void>;
  /** Refuses a snapshot that has children or that this process has mounted. */
  remove(key: string): Promise<void>;
  /** Bytes of the files the snapshot itself holds (its own layer for overlay), 0 when it does not exist. */
  usage(key: string): Promise<number>;
  stat(key: string): Promise<SnapshotInfo | undefined>;
  list(): Promise<SnapshotInfo[]>;
  /**
   * Makes an active snapshot or a view usable as a directory: overlay mounts it at a fresh dir
   * under the store; copy hands out the snapshot's own tree (a private copy, so a view stays
   * unaffected by writes elsewhere, though nothing stops writes into it).
   */
  mount(key: string): Promise<Mounted>;
  /** overlay: the snapshot's own layer dir (what the layer engine diffs); copy: its full tree. */
  upperDir(key: string): string;
  /** Committed chain dirs, nearest first (overlay lowers; for copy, [0] is the parent's full tree). */
  parentDirs(key: string): string[];
}
