// The overlay driver: a snapshot's dir holds only its own layer (`fs`, plus `work` while
// active), mounted over its committed parents' layers; commit just freezes the record.
import { mkdir, readdir, rm, rmdir } from 'node:fs/promises';
import path from 'node:path';
import { native } from '../native/binding.js';
import { SnapshotBusyError, SnapshotKindError } from './errors.js';
import { currentOwner, ownerAlive } from './lock.js';
import { mountsHeldBy, releaseMount, trackMount } from './mount-registry.js';
import { newSnapshotId, toInfo, type SnapshotMeta } from './snapshot-meta.js';
import type { Mounted, SnapshotInfo, Snapshotter } from './snapshots.js';

export class OverlaySnapshotter implements Snapshotter {
  readonly driver = 'overlay' as const;
  private readonly mountsDir: string;

  constructor(private readonly meta: SnapshotMeta) {
    this.mountsDir = path.join(meta.dir, 'mounts');
  }

  async prepare(key: string, parent?: string, opts?: { labels?: Record<string, string> }): Promise<void> {
    await this.meta.create('active', key, parent, opts?.labels ?? {}, async (dir) => {
      await mkdir(path.join(dir, 'fs'), { mode: 0o755 });
      await mkdir(path.join(dir, 'work'), { mode: 0o700 });
    });
  }

  async view(key: string, parent?: string, opts?: { labels?: Record<string, string> }): Promise<void> {
    await this.meta.create('view', key, parent, opts?.labels ?? {}, async (dir) => {
      await mkdir(path.join(dir, 'fs'), { mode: 0o755 });
    });
  }

  async commit(name: string, key: string, opts?: { labels?: Record<string, string> }): Promise<void> {
    await this.meta.commit(name, key, opts?.labels, (k) => this.busy(k), async (rec) => {
      // A committed layer is never mounted writable again; its work dir is dead weight.
      await rm(path.join(this.meta.snapshotDir(rec.id), 'work'), { recursive: true, force: true });
    });
  }

  async remove(key: string): Promise<void> {
    await this.meta.remove(key, (k) => this.busy(k));
  }

  usage(key: string): Promise<number> {
    return this.meta.usage(key);
  }

  async stat(key: string): Promise<SnapshotInfo | undefined> {
    const rec = await this.meta.get(key);
    return rec && toInfo(rec);
  }

  async list(): Promise<SnapshotInfo[]> {
    return (await this.meta.list()).map(toInfo);
  }

  async mount(key: string): Promise<Mounted> {
    const rec = await this.meta.mustGet(key);
    if (rec.kind === 'committed') {
      throw new SnapshotKindError(key, 'committed', 'it cannot be mounted; prepare or view a snapshot on it and mount that');
    }
    // Two overlays on one upper dir would corrupt it (the kernel refuses the second anyway).
    if (rec.kind === 'active' && this.busy(key).length > 0) throw new SnapshotBusyError(key, this.busy(key));
    const lowers = this.parentDirs(key);
    const own = this.meta.fsDir(rec.id);
    // The owner in the name lets a later process unmount what a killed one left (sweepDeadMounts).
    const target = path.join(this.mountsDir, `${currentOwner()}-${newSnapshotId()}`);
    await mkdir(target, { recursive: true });
    trackMount(target, this.holder(key));
    try {
      if (rec.kind === 'active') {
        await native.mountOverlay({
          lowers: lowers.length > 0 ? lowers : [await this.emptyDir()],
          upper: own,
          work: path.join(this.meta.snapshotDir(rec.id), 'work'),
          target,
        });
      } else {
        await native.mountOverlay({ lowers: lowers.length > 0 ? lowers : [own], target });
      }
    } catch (err) {
      await releaseMount(target, false);
      throw err;
    }
    return { dir: target, release: () => releaseMount(target) };
  }

  upperDir(key: string): string {
    return this.meta.fsDir(this.meta.mustGetSync(key).id);
  }

  parentDirs(key: string): string[] {
    const rec = this.meta.mustGetSync(key);
    return this.meta.chainSync(rec.parent).map((r) => this.meta.fsDir(r.id));
  }

  /**
   * Unmounts and removes mount points whose owner process is gone (killed with SIGKILL, where no
   * handler runs), so they do not pin snapshot dirs forever.
   */
  async sweepDeadMounts(): Promise<void> {
    let names: string[];
    try {
      names = await readdir(this.mountsDir);
    } catch {
      return;
    }
    for (const name of names) {
      const owner = name.slice(0, name.lastIndexOf('-'));
      if (owner === '' || ownerAlive(owner)) continue;
      const target = path.join(this.mountsDir, name);
      await native.unmount(target, { detach: true }).catch(() => undefined);
      await rmdir(target).catch(() => undefined);
    }
  }

  /** The lower of a parentless active snapshot: overlay needs one, and it must stay empty. */
  private async emptyDir(): Promise<string> {
    const dir = path.join(this.meta.dir, 'empty');
    await mkdir(dir, { recursive: true, mode: 0o755 });
    return dir;
  }

  private holder(key: string): string {
    return `${this.meta.dir}\0${key}`;
  }

  private busy(key: string): string[] {
    return mountsHeldBy(this.holder(key));
  }
}
