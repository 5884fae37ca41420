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
