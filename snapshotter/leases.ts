// Leases: what an in-progress build or pull holds (blobs by digest, snapshots by key) so garbage
// collection keeps it before any image names it. Kept in <root>/leases.json under its lock.
// A lease ends when deleted, when it expires, or when the process that owns it no longer runs.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { readRecordFile, updateRecordFile, type RecordKind } from './record-file.js';
import { LeaseNotFoundError } from './errors.js';
import { currentOwner, ownerAlive } from './lock.js';

export interface LeaseResource {
  kind: 'blob' | 'snapshot';
  key: string;
}

export interface Lease {
  id: string;
  /** RFC 3339; absent = held until deleted. */
  expires?: string;
  /** The process holding it (see currentOwner); it ends with that process, so a killed build holds nothing. */
  owner?: string;
  resources: LeaseResource[];
}

interface LeasesFile {
  leases: Record<string, { created: string; expires?: string; owner?: string; resources: LeaseResource[] }>;
}

const leasesFile: RecordKind<LeasesFile> = {
  empty: () => ({ leases: {} }),
  invalid: (data) => {
    const leases = (data as Partial<LeasesFile> | null)?.leases;
    return typeof leases === 'object' && leases !== null ? undefined : 'no "leases" object';
  },
};

function isOver(lease: Lease, now: Date): boolean {
  if (lease.expires !== undefined && Date.parse(lease.expires) <= now.getTime()) return true;
  return lease.owner !== undefined && !ownerAlive(lease.owner);
}

function toLease(id: string, rec: LeasesFile['leases'][string]): Lease {
  const { expires, owner, resources } = rec;
  return { id, ...(expires !== undefined && { expires }), ...(owner !== undefined && { owner }), resources };
}

/**
 * Leases in the store. A holder adds a resource to its lease before relying on it (then checks
 * it still exists): garbage collection holds the leases lock while it runs, so a resource added
 * before that check cannot be swept.
 */
export class Leases {
  readonly file: string;
  /**
   * Leases with a random id this instance made that hold nothing yet. An empty lease protects
   * nothing, so its record waits for the first add, and one deleted still empty is never written:
   * each write of leases.json takes its lock and an fsync.
   */
  private readonly unwritten = new Map<string, Omit<LeasesFile['leases'][string], 'resources'>>();

  constructor(readonly root: string) {
    this.file = path.join(root, 'leases.json');
  }

  /**
   * Creates a lease and returns its id (random unless given; an existing id is an error).
   * `owned` ties it to this process: it ends when the process does, however it ends.
   */
  async create(opts: { id?: string; expiresInMs?: number; owned?: boolean } = {}): Promise<string> {
    const now = Date.now();
    const record = {
      created: new Date(now).toISOString(),
      ...(opts.expiresInMs !== undefined && { expires: new Date(now + opts.expiresInMs).toISOString() }),
      ...(opts.owned === true && { owner: currentOwner() }),
    };
    // A random id clashes with nothing, so only a named lease needs the file now.
    if (opts.id === undefined) {
      const id = randomBytes(12).toString('hex');
      this.unwritten.set(id, record);
      return id;
    }
    const id = opts.id;
    await this.update((data) => {
      if (Object.hasOwn(data.leases, id)) throw new Error(`lease "${id}" already exists in ${this.file}`);
      data.leases[id] = { ...record, resources: [] };
    });
    return id;
  }

  /**
   * Writes a lease that holds nothing yet, for holders that mark what they make with its id
   * (snapshot labels) instead of adding each: GC honours a mark only for a lease in the file.
   * Free once the lease is written.
   */
  async persist(id: string): Promise<void> {
    if (this.unwritten.has(id)) await this.update((data) => this.writeUnwritten(data, id));
  }

  /** Adds resources to a lease; several at once cost one write of the record. */
  async add(id: string, ...add: LeaseResource[]): Promise<void> {
    if (add.length === 0) return;
    await this.update((data) => {
      this.writeUnwritten(data, id);
      if (!Object.hasOwn(data.leases, id)) throw new LeaseNotFoundError(id, this.root);
      const { resources } = data.leases[id]!;
      for (const resource of add) {
        if (!resources.some((r) => r.kind === resource.kind && r.key === resource.key)) {
          resources.push({ kind: resource.kind, key: resource.key });
        }
      }
    });
  }

  /** Releases a lease; deleting one that is gone is not an error. */
  async delete(id: string): Promise<void> {
    if (this.unwritten.delete(id)) return;
    await this.update((data) => {
      delete data.leases[id];
    });
  }

  async list(): Promise<Lease[]> {
    const data = await readRecordFile(this.file, leasesFile);
    return Object.keys(data.leases)
      .sort()
      .map((id) => toLease(id, data.leases[id]!));
  }

  /** Drops the leases of processes that ended and those whose time is up (how many); writes only when there are some. */
  async dropEnded(): Promise<number> {
    const now = new Date();
    const ended = (await this.list()).filter((l) => isOver(l, now)).length;
    if (ended > 0) await this.whileHeld(async () => undefined);
    return ended;
  }

  /**
   * Runs `fn` holding the leases lock, with the leases that are still valid; expired ones and
   * those of processes that ended are dropped first. Garbage collection marks and sweeps inside this.
   */
  async whileHeld<R>(fn: (live: Lease[]) => Promise<R>): Promise<R> {
    return this.update(async (data) => {
      const now = new Date();
      const live: Lease[] = [];
      for (const id of Object.keys(data.leases)) {
        const lease = toLease(id, data.leases[id]!);
        if (isOver(lease, now)) delete data.leases[id];
        else live.push(lease);
      }
      return fn(live);
    });
  }

  /** Moves a lease this instance has not written yet into `data`; taken under the lock, so a delete queued behind finds it in the file. */
  private writeUnwritten(data: LeasesFile, id: string): void {
    const unwritten = this.unwritten.get(id);
    if (!unwritten) return;
    this.unwritten.delete(id);
    data.leases[id] = { ...unwritten, resources: [] };
  }

  private update<R>(change: (data: LeasesFile) => R | Promise<R>): Promise<R> {
    return updateRecordFile(this.root, this.file, leasesFile, change);
  }
}
