// The choice of snapshot driver for a store and opening it: overlay where it mounts, else full
// copies, recorded in <root>/snapshots/driver so a store keeps the driver it started with.
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { native } from '../native/binding.js';
import { OverlayUnavailableError, SnapshotDriverMismatchError } from './errors.js';
import { releaseMount, trackMount } from './mount-registry.js';
import { newSnapshotId, SnapshotMeta } from './snapshot-meta.js';
import { OverlaySnapshotter } from './overlay-driver.js';
import { CopySnapshotter } from './copy-driver.js';
import { writeFileAtomic } from './atomic-file.js';
import { recoverStore } from './recovery.js';
import type { SnapshotDriver, Snapshotter } from './snapshots.js';

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
  await recoverStore(root, meta);
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
