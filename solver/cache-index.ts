// The build cache index: cache key → the committed snapshots a run of that vertex produced, kept in
// <root>/cache/index.json across builds and shared by every kiln process on the store.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { readRecordFile, updateRecordFile, type RecordKind } from '../snapshotter/record-file.js';
import type { Snapshotter } from '../snapshotter/snapshots.js';
import type { OpResult } from './types.js';

interface CacheEntry {
  /** One snapshot key per output index; null is an empty (scratch) output. */
  results: (string | null)[];
  created: string;
}

interface IndexFile {
  entries: Record<string, CacheEntry>;
  /** Blob digests this record keeps from GC (see snapshotter/gc.ts); the index holds snapshots only. */
  digests: string[];
}

const indexFile: RecordKind<IndexFile> = {
  empty: () => ({ entries: {}, digests: [] }),
  invalid: (data) => {
    const entries = (data as Partial<IndexFile> | null)?.entries;
    return typeof entries === 'object' && entries !== null ? undefined : 'no "entries" object';
  },
};

export class CacheIndex {
  private constructor(
    private readonly root: string,
    private readonly file: string,
    private entries: Record<string, CacheEntry>,
  ) {}

  static async open(root: string): Promise<CacheIndex> {
    const file = path.join(root, 'cache', 'index.json');
    // The lock file sits beside the index, so its folder must exist before the first record.
    await mkdir(path.dirname(file), { recursive: true });
    return new CacheIndex(root, file, (await readRecordFile(file, indexFile)).entries);
  }

  /** The snapshots recorded under `key` (none when nothing is), whether or not they still exist. */
  snapshotsOf(key: string): string[] {
    return (this.entries[key]?.results ?? []).filter((s): s is string => s !== null);
  }

  /** The results recorded under `key`, or undefined when none are, or any of their snapshots is gone (GC, prune). */
  async lookup(key: string, snapshotter: Snapshotter): Promise<OpResult[] | undefined> {
    const entry = this.entries[key];
    if (!entry) return undefined;
    for (const snap of entry.results) {
      if (snap === null) continue;
      const info = await snapshotter.stat(snap);
      if (info?.kind !== 'committed') return undefined;
    }
    return entry.results.map((snapshot) => ({ snapshot }));
  }

  /** The keys whose results name a snapshot that is not among `committed` (they can only miss). */
  deadKeys(committed: ReadonlySet<string>): string[] {
    return Object.keys(this.entries).filter((key) => this.entries[key]!.results.some((snap) => snap !== null && !committed.has(snap)));
  }

  /**
   * Drops the entries whose snapshots are gone (removed by a prune), which would only ever miss,
   * so the index does not keep growing with dead keys. Returns how many were dropped.
   */
  async forgetMissing(snapshotter: Snapshotter): Promise<number> {
    const live = new Set((await snapshotter.list()).filter((s) => s.kind === 'committed').map((s) => s.key));
    return this.forget((snap) => !live.has(snap));
  }

  /** Drops the entries that name any of `snapshots` (about to be removed); returns how many. */
  forgetSnapshots(snapshots: ReadonlySet<string>): Promise<number> {
    return this.forget((snap) => snapshots.has(snap));
  }

  private async forget(gone: (snapshot: string) => boolean): Promise<number> {
    const alive = (e: CacheEntry) => e.results.every((snap) => snap === null || !gone(snap));
    if (Object.values(this.entries).every(alive)) return 0;
    let dropped = 0;
    // A build that recorded meanwhile committed its snapshots first, so it cannot be dropped here.
    this.entries = await updateRecordFile(this.root, this.file, indexFile, (data) => {
      for (const [key, entry] of Object.entries(data.entries)) {
        if (alive(entry)) continue;
        delete data.entries[key];
        dropped++;
      }
      return { ...data.entries };
    });
    return dropped;
  }

  /** Records a vertex's results; a concurrent build's entries written meanwhile are kept. */
  async record(key: string, results: OpResult[]): Promise<void> {
    const entry: CacheEntry = { results: results.map((r) => r.snapshot), created: new Date().toISOString() };
    this.entries = await updateRecordFile(this.root, this.file, indexFile, (data) => {
      data.entries[key] = entry;
      data.digests ??= [];
      return { ...data.entries };
    });
  }
}
