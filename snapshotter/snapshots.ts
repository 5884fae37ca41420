// Snapshots in the containerd sense (active → committed chains, read-only views) behind one
// interface, and the choice of driver for a store: overlay where it mounts, else full copies.
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { native } from '../native/binding.js';
import { OverlayUnavailableError, SnapshotDriverMismatchError } from './errors.js';
import { releaseMount, trackMount } from './mount-registry.js';
import { newSnapshotId, SnapshotMeta } from './snapshot-meta.js';
import { OverlaySnapshotter } from './overlay-driver.js';
import { CopySnapshotter } from './copy-driver.js';
import { writeFileAtomic } from './atomic-file.js';

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

export interface OpenSnapshotterOptions {
  /** 'auto' (default) tries a real overlay mount in the store once and falls back to copy. */
  driver?: SnapshotDriver | 'auto';
  /** Where the one line explaining a fallback goes (default: stderr). */
  log?: (line: string) => void;
}

export async function openSnapshotter(root: string, opts: OpenSnapshotterOptions = {}): Promise<Snapshotter> {
  const dir = path.join(path.resolve(root), 'snapshots');
  await mkdir(dir, { recursive: true });
  const meta = new SnapshotMeta(dir);
  const log = opts.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const driver = await meta.locked(() => chooseDriver(meta, opts.driver ?? 'auto', log));
  await sweepRemoved(dir);
  if (driver === 'copy') return new CopySnapshotter(meta);
  const overlay = new OverlaySnapshotter(meta);
  await overlay.sweepDeadMounts();
  return overlay;
}

/**
 * A store's snapshots only make sense to the driver that made them (overlay layer dirs vs full
 * trees), so the choice is recorded in <root>/snapshots/driver and binds while any exist.
 */
async function chooseDriver(
  meta: SnapshotMeta,
  requested: SnapshotDriver | 'auto',
  log: (line: string) => void,
): Promise<SnapshotDriver> {
  const file = path.join(meta.dir, 'driver');
  const recorded = await readFile(file, 'utf8').then(
    (text) => text.trim(),
    () => undefined,
  );
  if ((recorded === 'overlay' || recorded === 'copy') && (await meta.any())) {
    if (requested !== 'auto' && requested !== recorded) throw new SnapshotDriverMismatchError(meta.dir, recorded, requested);
    return recorded;
  }
  let chosen: SnapshotDriver = 'copy';
  if (requested !== 'copy') {
    const failure = await probeOverlay(meta.dir);
    if (failure === undefined) chosen = 'overlay';
    else if (requested === 'overlay') throw new OverlayUnavailableError(meta.dir, failure);
    else log(`kiln: overlay mounts do not work under ${meta.dir} (${failure}); using the copy snapshotter, which copies each snapshot in full (slower, more disk)`);
  }
  await writeFileAtomic(file, chosen + '\n');
  return chosen;
}

/** Mounts a writable overlay the way snapshots will, writes through it; the failure, if any. */
async function probeOverlay(dir: string): Promise<string | undefined> {
  const probe = path.join(dir, `.probe-${newSnapshotId()}`);
  const lower = path.join(probe, 'lower');
  const upper = path.join(probe, 'upper');
  const work = path.join(probe, 'work');
  const target = path.join(probe, 'merged');
  try {
    for (const d of [lower, upper, work, target]) await mkdir(d, { recursive: true });
    trackMount(target, 'probe');
    try {
      await native.mountOverlay({ lowers: [lower], upper: upper, work: work, target: target });
    } catch (err) {
      await releaseMount(target, false);
      return (err as Error).message;
    }
    try {
      await writeFile(path.join(target, 'probe'), 'ok');
      if ((await readFile(path.join(upper, 'probe'), 'utf8')) !== 'ok') return 'a write did not reach the upper dir';
    } catch (err) {
      return (err as Error).message;
    } finally {
      await releaseMount(target);
    }
    return undefined;
  } finally {
    await rm(probe, { recursive: true, force: true });
  }
}

/** Directories a remove moved aside but did not get to delete (the process died). */
async function sweepRemoved(dir: string): Promise<void> {
  for (const name of await readdir(dir)) {
    if (name.startsWith('.removing-')) await rm(path.join(dir, name), { recursive: true, force: true }).catch(() => undefined);
  }
}
