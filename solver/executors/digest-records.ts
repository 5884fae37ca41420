// The store's metadata cache of context file digests (<root>/cache/context/<dir hash>.json): for
// each path, the size, mtime and inode its digest was computed for. Stored as columns (paths
// NUL-joined, numbers as a base64 Float64Array, content digests as concatenated hex) because parsing
// 20 000 small JSON arrays on every build cost more than the rest of a no-op rebuild's work.
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../../snapshotter/atomic-file.js';

interface Stat {
  rel: string;
  size: number;
  mtimeMs: number;
  ino: number;
}

interface Columns {
  version: 3;
  /** The context dir described; records for another dir are not trusted. */
  dir: string;
  rels: string;
  /** base64 of a Float64Array: size, mtimeMs, ino per record. */
  stats: string;
  /** 64 hex characters per record (not named `digests`: GC reads that field of cache records as blob roots). */
  hashes: string;
}

export class DigestRecords {
  private readonly added = new Map<string, { stat: Stat; digest: string }>();
  /** Built on the first lookup that the in-order cursor cannot answer. */
  private index: Map<string, number> | undefined;
  private cursor = 0;

  constructor(
    private readonly rels: string[] = [],
    private readonly stats: Float64Array = new Float64Array(0),
    private readonly hex: string = '',
  ) {}

  /** The digest recorded for this path, if it was computed for the same size, mtime and inode. */
  lookup(e: Stat): string | undefined {
    const fresh = this.added.get(e.rel);
    if (fresh) return same(fresh.stat, e) ? fresh.digest : undefined;
    const i = this.position(e.rel);
    if (i === undefined) return undefined;
    const s = this.stats;
    if (s[i * 3] !== e.size || s[i * 3 + 1] !== e.mtimeMs || s[i * 3 + 2] !== e.ino) return undefined;
    return `sha256:${this.hex.slice(i * 64, i * 64 + 64)}`;
  }

  /**
   * Records are written in scan order and looked up in scan order, so the next record is almost
   * always the one asked for; a map of 20 000 paths is built only when that guess misses.
   */
  private position(rel: string): number | undefined {
    if (this.rels[this.cursor] === rel) return this.cursor++;
    if (!this.index) {
      this.index = new Map();
      for (let i = 0; i < this.rels.length; i++) this.index.set(this.rels[i]!, i);
    }
    const i = this.index.get(rel);
    if (i !== undefined) this.cursor = i + 1;
    return i;
  }

  add(e: Stat, digest: string): void {
    this.added.set(e.rel, { stat: { rel: e.rel, size: e.size, mtimeMs: e.mtimeMs, ino: e.ino }, digest });
  }

  /** The records of the paths still present, in the order given (scan order), newer ones winning. */
  toColumns(dir: string, present: string[]): Columns {
    const rels: string[] = [];
    const nums: number[] = [];
    const hex: string[] = [];
    const old = new Map<string, number>();
    for (let i = 0; i < this.rels.length; i++) old.set(this.rels[i]!, i);
    for (const rel of present) {
      const fresh = this.added.get(rel);
      const i = old.get(rel);
      if (fresh) {
        nums.push(fresh.stat.size, fresh.stat.mtimeMs, fresh.stat.ino);
        hex.push(fresh.digest.slice('sha256:'.length));
      } else if (i !== undefined) {
        nums.push(this.stats[i * 3]!, this.stats[i * 3 + 1]!, this.stats[i * 3 + 2]!);
        hex.push(this.hex.slice(i * 64, i * 64 + 64));
      } else {
        continue;
      }
      rels.push(rel);
    }
    return { version: 3, dir, rels: rels.join('\0'), stats: Buffer.from(new Float64Array(nums).buffer).toString('base64'), hashes: hex.join('') };
  }
}

function same(a: Stat, b: Stat): boolean {
  return a.size === b.size && a.mtimeMs === b.mtimeMs && a.ino === b.ino;
}

/** A missing, unreadable or foreign file is an empty cache: losing it costs hashing, not data. */
export async function readRecords(file: string, dir: string): Promise<DigestRecords> {
  let c: Partial<Columns>;
  try {
    c = JSON.parse(await readFile(file, 'utf8')) as Partial<Columns>;
  } catch {
    return new DigestRecords();
  }
  if (c.version !== 3 || c.dir !== dir || typeof c.rels !== 'string' || typeof c.stats !== 'string' || typeof c.hashes !== 'string') {
    return new DigestRecords();
  }
  const rels = c.rels === '' ? [] : c.rels.split('\0');
  const bytes = Buffer.from(c.stats, 'base64');
  if (bytes.length !== rels.length * 24 || c.hashes.length !== rels.length * 64) return new DigestRecords();
  // Copied into a fresh buffer: a Float64Array needs 8-byte alignment, which a pooled Buffer lacks.
  const stats = new Float64Array(new Uint8Array(bytes).buffer);
  return new DigestRecords(rels, stats, c.hashes);
}

export async function writeRecords(file: string, dir: string, records: DigestRecords, present: string[]): Promise<void> {
  await writeFileAtomic(file, JSON.stringify(records.toColumns(dir, present)));
}

/** The content keys last computed for a context, per selection, and the fingerprint they hold for. */
export interface KeyMemo {
  fingerprint: string;
  /** sha256 of the selection (include, exclude, follow paths) → content key. */
  keys: Record<string, string>;
}

/** Kept beside the digest records (`<dir hash>.keys.json`), small so a no-op rebuild reads little. */
export async function readKeyMemo(file: string, dir: string): Promise<KeyMemo> {
  try {
    const m = JSON.parse(await readFile(file, 'utf8')) as Partial<KeyMemo> & { dir?: string };
    if (m.dir === dir && typeof m.fingerprint === 'string' && typeof m.keys === 'object' && m.keys !== null) return { fingerprint: m.fingerprint, keys: m.keys };
  } catch {
    // Missing or unreadable: the keys are computed again.
  }
  return { fingerprint: '', keys: {} };
}

export async function writeKeyMemo(file: string, dir: string, memo: KeyMemo): Promise<void> {
  await writeFileAtomic(file, JSON.stringify({ dir, ...memo }));
}


