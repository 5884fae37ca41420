// The copy driver, for where overlay cannot mount: every snapshot's `fs` is a full tree, cloned
// from its parent's (reflinked where the filesystem can), and "mounting" hands that tree out.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { native } from '../native/binding.js';
import { SnapshotKindError } from './errors.js';
import { toInfo, type SnapshotMeta, type SnapshotRecord } from './snapshot-meta.js';
import type { Mounted, SnapshotInfo, Snapshotter } from './snapshots.js';

export class CopySnapshotter implements Snapshotter {
  readonly driver = 'copy' as const;
  /** Handed-out trees per key and their count, so commit/remove refuse in-use snapshots as overlay does. */
  private readonly inUse = new Map<string, number>();

  constructor(private readonly meta: SnapshotMeta) {}

  async prepare(key: string, parent?: string, opts?: { labels?: Record<string, string> }): Promise<void> {
    await this.meta.create('active', key, parent, opts?.labels ?? {}, (dir, chain) => this.fill(dir, chain));
  }

  async view(key: string, parent?: string, opts?: { labels?: Record<string, string> }): Promise<void> {
    await this.meta.create('view', key, parent, opts?.labels ?? {}, (dir, chain) => this.fill(dir, chain));
  }

  async commit(name: string, key: string, opts?: { labels?: Record<string, string> }): Promise<void> {
    await this.meta.commit(name, key, opts?.labels, (k) => this.busy(k), async () => undefined);
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
    this.inUse.set(key, (this.inUse.get(key) ?? 0) + 1);
    let released = false;
    return {
      dir: this.meta.fsDir(rec.id),
      release: async () => {
        if (released) return;
        released = true;
        const left = (this.inUse.get(key) ?? 1) - 1;
        if (left > 0) this.inUse.set(key, left);
        else this.inUse.delete(key);
      },
    };
  }

  upperDir(key: string): string {
    return this.meta.fsDir(this.meta.mustGetSync(key).id);
  }

  parentDirs(key: string): string[] {
    const rec = this.meta.mustGetSync(key);
    return this.meta.chainSync(rec.parent).map((r) => this.meta.fsDir(r.id));
  }

  /** A new snapshot starts as a full copy of its parent's tree (or empty). */
  private async fill(dir: string, chain: SnapshotRecord[]): Promise<void> {
    const fs = path.join(dir, 'fs');
    const parent = chain[0];
    if (parent === undefined) await mkdir(fs, { mode: 0o755 });
    else await native.cloneTree(this.meta.fsDir(parent.id), fs);
  }

  private busy(key: string): string[] {
    return this.inUse.has(key) ? [this.meta.fsDir(this.meta.mustGetSync(key).id)] : [];
  }
}
