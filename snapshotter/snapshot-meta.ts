// Snapshot records on disk: one JSON file per key under <root>/snapshots/meta/, named by the
// key's hash and replaced whole by rename, changed only under the metadata lock.
import { createHash, randomBytes } from 'node:crypto';
import { dirEntries } from './dir-entries.js';
import { readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { scanTree } from '../native/scan-tree.js';
import { currentOwner, withLock } from './lock.js';
import { writeFileAtomic } from './atomic-file.js';
import {
  CorruptRecordError,
  SnapshotBusyError,
  SnapshotExistsError,
  SnapshotHasChildrenError,
  SnapshotKindError,
  SnapshotNotFoundError,
} from './errors.js';
import type { SnapshotInfo, SnapshotKind } from './snapshots.js';

/** A snapshot's record: its public info plus the id naming its directory. */
export interface SnapshotRecord extends SnapshotInfo {
  /** Random, never derived from the key; a commit keeps the id and so the directory. */
  id: string;
}

const KINDS: readonly SnapshotKind[] = ['active', 'view', 'committed'];

function invalidRecord(data: unknown): string | undefined {
  if (typeof data !== 'object' || data === null) return 'not an object';
  const r = data as Partial<Record<keyof SnapshotRecord, unknown>>;
  if (typeof r.key !== 'string') return 'no key';
  if (typeof r.id !== 'string' || !/^[0-9a-f]{16}$/.test(r.id)) return 'bad id';
  if (!KINDS.includes(r.kind as SnapshotKind)) return 'bad kind';
  if (r.parent !== undefined && typeof r.parent !== 'string') return 'bad parent';
  if (typeof r.created !== 'string') return 'no created time';
  if (typeof r.labels !== 'object' || r.labels === null) return 'no labels';
  return undefined;
}

function parseRecord(file: string, text: string): SnapshotRecord {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new CorruptRecordError(file, (err as Error).message);
  }
  const reason = invalidRecord(data);
  if (reason !== undefined) throw new CorruptRecordError(file, reason);
  return data as SnapshotRecord;
}

function notFound(err: unknown): boolean {
  return (err as NodeJS.ErrnoException).code === 'ENOENT';
}

/** `<dir>/<id>.creating-<owner>`: present while `owner` makes snapshot directory `id`. */
export function creationMarker(dir: string, id: string, owner: string): string {
  return path.join(dir, `${id}.creating-${owner}`);
}

export function newSnapshotId(): string {
  return randomBytes(8).toString('hex');
}

/** The public view of a record. */
export function toInfo(rec: SnapshotRecord): SnapshotInfo {
  const info: SnapshotInfo = { key: rec.key, kind: rec.kind, created: rec.created, labels: { ...rec.labels } };
  if (rec.parent !== undefined) info.parent = rec.parent;
  return info;
}

/** Mount points through which a snapshot is in use in this process (empty = free). */
export type BusyCheck = (key: string) => string[];

/** The records of one store's snapshots; `dir` is <root>/snapshots. */
export class SnapshotMeta {
  readonly metaDir: string;

  constructor(readonly dir: string) {
    this.metaDir = path.join(dir, 'meta');
  }

  /** A snapshot's own directory (holding `fs`, and `work` for overlay). */
  snapshotDir(id: string): string {
    return path.join(this.dir, id);
  }

  fsDir(id: string): string {
    return path.join(this.dir, id, 'fs');
  }

  /** Keys are arbitrary strings (`sha256:…`, paths, anything): only their hash names a file. */
  private file(key: string): string {
    return path.join(this.metaDir, createHash('sha256').update(key).digest('hex') + '.json');
  }

  async get(key: string): Promise<SnapshotRecord | undefined> {
    const file = this.file(key);
    try {
      return parseRecord(file, await readFile(file, 'utf8'));
    } catch (err) {
      if (notFound(err)) return undefined;
      throw err;
    }
  }

  /** For the synchronous accessors (upperDir, parentDirs). */
  getSync(key: string): SnapshotRecord | undefined {
    const file = this.file(key);
    try {
      return parseRecord(file, readFileSync(file, 'utf8'));
    } catch (err) {
      if (notFound(err)) return undefined;
      throw err;
    }
  }

  async mustGet(key: string): Promise<SnapshotRecord> {
    const rec = await this.get(key);
    if (rec === undefined) throw new SnapshotNotFoundError(key, this.dir);
    return rec;
  }

  mustGetSync(key: string): SnapshotRecord {
    const rec = this.getSync(key);
    if (rec === undefined) throw new SnapshotNotFoundError(key, this.dir);
    return rec;
  }

  /** Every record, by key; throws CorruptRecordError for the first that cannot be read. */
  async list(): Promise<SnapshotRecord[]> {
    const { records, unreadable } = await this.scan();
    if (unreadable[0]) throw unreadable[0];
    return records;
  }

  /** Every record that reads, by key, and the errors of those that do not (for fsck and recovery). */
  async scan(): Promise<{ records: SnapshotRecord[]; unreadable: CorruptRecordError[] }> {
    const names = await dirEntries(this.metaDir);
    const records: SnapshotRecord[] = [];
    const unreadable: CorruptRecordError[] = [];
    for (const name of names.filter((n) => n.endsWith('.json'))) {
      const file = path.join(this.metaDir, name);
      try {
        records.push(parseRecord(file, await readFile(file, 'utf8')));
      } catch (err) {
        if (err instanceof CorruptRecordError) unreadable.push(err);
        // Else removed by another process between readdir and read.
        else if (!notFound(err)) throw err;
      }
    }
    return { records: records.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)), unreadable };
  }

  /** Whether any snapshot is recorded: every build asks, so it lists names rather than reading records. */
  async any(): Promise<boolean> {
    try {
      return (await readdir(this.metaDir)).some((n) => n.endsWith('.json'));
    } catch (err) {
      if (notFound(err)) return false;
      throw err;
    }
  }

  /**
   * The committed chain a new snapshot on `parent` stacks on, nearest first. Synchronous so that
   * upperDir/parentDirs can stay synchronous; a missing link means the store is damaged.
   */
  chainSync(parent: string | undefined): SnapshotRecord[] {
    const chain: SnapshotRecord[] = [];
    const seen = new Set<string>();
    for (let key = parent; key !== undefined; ) {
      if (seen.has(key)) throw new CorruptRecordError(this.metaDir, `parent cycle through "${key}"`);
      seen.add(key);
      const rec = this.mustGetSync(key);
      if (rec.kind !== 'committed') {
        throw new SnapshotKindError(key, rec.kind, 'only a committed snapshot can be a parent; commit it first');
      }
      chain.push(rec);
      key = rec.parent;
    }
    return chain;
  }

  /** Runs `fn` holding the store-wide metadata lock (shared by every kiln process on this store). */
  locked<T>(fn: () => Promise<T>): Promise<T> {
    return withLock(path.join(this.dir, 'meta.lock'), fn);
  }

  /** Writes a record atomically; call under `locked`. A dot name never ends in .json, so list() skips a temp file a crash left. */
  async write(rec: SnapshotRecord): Promise<void> {
    await writeFileAtomic(this.file(rec.key), JSON.stringify(rec, null, 2) + '\n');
  }


  /** Bytes of the regular files under a snapshot's directory: about what removing it frees. */
  async usage(key: string): Promise<number> {
    const rec = await this.get(key);
    if (rec === undefined) return 0;
    const entries = await scanTree(this.snapshotDir(rec.id)).catch(() => []);
    return entries.reduce((bytes, e) => (e.kind === 'file' ? bytes + e.size : bytes), 0);
  }

  /** Deletes a record; call under `locked`. */
  async delete(key: string): Promise<void> {
    await unlink(this.file(key)).catch((err: unknown) => {
      if (!notFound(err)) throw err;
    });
  }

  /**
   * Takes a snapshot's directory out of the store: renamed aside under the lock (cheap), deleted
   * after it (a big tree must not hold every other process up).
   */
  async discardDir(id: string): Promise<() => Promise<void>> {
    const aside = path.join(this.dir, `.removing-${id}`);
    try {
      await rename(this.snapshotDir(id), aside);
    } catch (err) {
      if (!notFound(err)) throw err;
      return async () => undefined;
    }
    return () => rm(aside, { recursive: true, force: true });
  }

  /**
   * Creates an active snapshot or a view: `fill` builds its directory outside the lock (a copy
   * may be slow); the record appears only once the directory is complete, and the checks are
   * repeated under the lock, since another process may have taken the key or removed the parent.
   */
  async create(
    kind: 'active' | 'view',
    key: string,
    parent: string | undefined,
    labels: Record<string, string>,
    fill: (dir: string, chain: SnapshotRecord[]) => Promise<void>,
  ): Promise<void> {
    if ((await this.get(key)) !== undefined) throw new SnapshotExistsError(key, this.dir);
    const chain = this.chainSync(parent);
    const id = newSnapshotId();
    const dir = this.snapshotDir(id);
    // Names the directory's maker until the record names the directory: a killed maker's
    // directory is then known for what it is and removed at the next start (see recover()).
    const marker = creationMarker(this.dir, id, currentOwner());
    try {
      await writeFile(marker, '');
      await mkdir(dir, { recursive: true });
      await fill(dir, chain);
      await this.locked(async () => {
        if ((await this.get(key)) !== undefined) throw new SnapshotExistsError(key, this.dir);
        this.chainSync(parent);
        const rec: SnapshotRecord = { key, kind, id, created: new Date().toISOString(), labels: { ...labels } };
        if (parent !== undefined) rec.parent = parent;
        await this.write(rec);
        await unlink(marker);
      });
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      await rm(marker, { force: true });
      throw err;
    }
  }

  /**
   * Freezes active `key` as committed `name`. The directory (the id) carries over; `seal` tidies
   * it first (overlay drops its work dir).
   */
  async commit(
    name: string,
    key: string,
    labels: Record<string, string> | undefined,
    busy: BusyCheck,
    seal: (rec: SnapshotRecord) => Promise<void>,
  ): Promise<void> {
    await this.locked(async () => {
      const rec = await this.mustGet(key);
      if (rec.kind !== 'active') throw new SnapshotKindError(key, rec.kind, 'only an active snapshot can be committed');
      if ((await this.get(name)) !== undefined) throw new SnapshotExistsError(name, this.dir);
      const targets = busy(key);
      if (targets.length > 0) throw new SnapshotBusyError(key, targets);
      await seal(rec);
      const committed: SnapshotRecord = { ...rec, key: name, kind: 'committed', created: new Date().toISOString() };
      committed.labels = { ...(labels ?? rec.labels) };
      // Written before the old record goes: a crash in between leaves two records on one id,
      // which remove() handles by keeping the directory while any record still names it.
      await this.write(committed);
      await this.delete(key);
    });
  }

  async remove(key: string, busy: BusyCheck): Promise<void> {
    const finish = await this.locked(async () => {
      const rec = await this.mustGet(key);
      const all = await this.list();
      const children = all.filter((r) => r.parent === key).map((r) => r.key);
      if (children.length > 0) throw new SnapshotHasChildrenError(key, children);
      const targets = busy(key);
      if (targets.length > 0) throw new SnapshotBusyError(key, targets);
      await this.delete(key);
      if (all.some((r) => r.id === rec.id && r.key !== key)) return async () => undefined;
      return this.discardDir(rec.id);
    });
    await finish();
  }
}
