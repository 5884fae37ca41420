// A snapshotter that marks every snapshot it makes with a lease's id, so garbage collection keeps
// them while the lease lives without a write of leases.json per snapshot.
import type { Leases } from './leases.js';
import type { Mounted, SnapshotInfo, Snapshotter } from './snapshots.js';

/** Label naming the lease a snapshot was made under (see collectGarbage). */
export const LEASE_LABEL = 'kiln.lease';

export class LeasedSnapshotter implements Snapshotter {
  readonly driver: Snapshotter['driver'];

  constructor(
    private readonly inner: Snapshotter,
    private readonly leases: Leases,
    readonly lease: string,
  ) {
    this.driver = inner.driver;
  }

  private async labels(extra?: Record<string, string>): Promise<Record<string, string>> {
    // The mark protects only once the lease is in the file, so that comes first.
    await this.leases.persist(this.lease);
    return { ...extra, [LEASE_LABEL]: this.lease };
  }

  async prepare(key: string, parent?: string, opts?: { labels?: Record<string, string> }): Promise<void> {
    await this.inner.prepare(key, parent, { labels: await this.labels(opts?.labels) });
  }

  async view(key: string, parent?: string, opts?: { labels?: Record<string, string> }): Promise<void> {
    await this.inner.view(key, parent, { labels: await this.labels(opts?.labels) });
  }

  async commit(name: string, key: string, opts?: { labels?: Record<string, string> }): Promise<void> {
    await this.inner.commit(name, key, { labels: await this.labels(opts?.labels) });
  }

  remove(key: string): Promise<void> {
    return this.inner.remove(key);
  }

  usage(key: string): Promise<number> {
    return this.inner.usage(key);
  }

  stat(key: string): Promise<SnapshotInfo | undefined> {
    return this.inner.stat(key);
  }

  list(): Promise<SnapshotInfo[]> {
    return this.inner.list();
  }

  mount(key: string): Promise<Mounted> {
    return this.inner.mount(key);
  }

  upperDir(key: string): string {
    return this.inner.upperDir(key);
  }

  parentDirs(key: string): string[] {
    return this.inner.parentDirs(key);
  }
}
