// The snapshots one op works with: writable ones it prepares and mounts, read-only views of its
// inputs, and the commits that become its results; everything else is released and removed after.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Mounted, Snapshotter } from '../../snapshotter/snapshots.js';

export class SnapshotWork {
  private readonly mounts = new Map<string, Mounted>();
  private readonly created: string[] = [];
  private readonly tempDirs: string[] = [];
  private readonly prefix: string;

  constructor(private readonly snapshotter: Snapshotter, opDigest: string) {
    this.prefix = `op-${opDigest.replace(/^sha256:/, '').slice(0, 12)}-${randomBytes(4).toString('hex')}`;
  }

  private newKey(kind: string): string {
    return `${this.prefix}-${kind}-${this.created.length}`;
  }

  /** A writable snapshot on `parent` (null = empty), mounted. */
  async active(parent: string | null): Promise<{ key: string; dir: string }> {
    const key = this.newKey('rw');
    await this.snapshotter.prepare(key, parent ?? undefined);
    this.created.push(key);
    const m = await this.snapshotter.mount(key);
    this.mounts.set(key, m);
    return { key, dir: m.dir };
  }

  /** A read-only tree of committed `snapshot` (null = an empty directory). */
  async view(snapshot: string | null): Promise<string> {
    if (snapshot === null) {
      const dir = await mkdtemp(path.join(os.tmpdir(), 'kiln-empty-'));
      this.tempDirs.push(dir);
      return dir;
    }
    const key = this.newKey('ro');
    await this.snapshotter.view(key, snapshot);
    this.created.push(key);
    const m = await this.snapshotter.mount(key);
    this.mounts.set(key, m);
    return m.dir;
  }

  /** Unmounts active `key` and commits it; the committed key is kept by `cleanup` only when in `keep`. */
  async commit(key: string): Promise<string> {
    await this.mounts.get(key)?.release();
    this.mounts.delete(key);
    const name = this.newKey('done');
    await this.snapshotter.commit(name, key);
    this.created[this.created.indexOf(key)] = name;
    return name;
  }

  /** Releases every mount and removes every snapshot not in `keep`, children first. */
  async cleanup(keep: ReadonlySet<string>): Promise<void> {
    for (const m of this.mounts.values()) await m.release().catch(() => undefined);
    this.mounts.clear();
    for (const key of [...this.created].reverse()) {
      // A kept result may build on an intermediate commit, which then has to stay too.
      if (!keep.has(key)) await this.snapshotter.remove(key).catch(() => undefined);
    }
    for (const d of this.tempDirs) await rm(d, { recursive: true, force: true });
  }
}
