// Garbage collection of the store: marks what image records, cache records and live leases reach,
// then deletes every other blob and snapshot, and the temp files of writers that died.
import { readFile } from 'node:fs/promises';
import { dirEntries } from './dir-entries.js';
import path from 'node:path';
import type { Store } from './store.js';
import type { ImageConfig, Index, Manifest } from '../oci/image-spec.js';
import { MediaType } from '../oci/image-spec.js';
import { isDigest } from '../oci/digest.js';
import { cleanIngest } from './ingest.js';
import { LEASE_LABEL } from './leased-snapshotter.js';
import { sha256Digest } from '../oci/digest.js';

/** The part of a snapshotter GC needs. `remove` may refuse a snapshot that still has children. */
export interface SnapshotSource {
  list(): Promise<{ key: string; parent?: string; labels?: Record<string, string> }[]>;
  usage(key: string): Promise<number>;
  remove(key: string): Promise<void>;
}

export interface GcResult {
  /** Blobs deleted. */
  blobs: number;
  /** Bytes freed: deleted blobs and snapshots, and dead writers' temp files. */
  bytes: number;
  /** Snapshots removed. */
  snapshots: number;
}

/** The OCI chain IDs of a layer stack: chainID(L0) = diffID0, chainID(Ln) = sha256(chainID(Ln-1) + " " + diffIDn). */
export function chainIds(diffIds: string[]): string[] {
  const out: string[] = [];
  for (const diffId of diffIds) {
    const prev = out[out.length - 1];
    out.push(prev === undefined ? diffId : sha256Digest(`${prev} ${diffId}`));
  }
  return out;
}

const INDEX_TYPES = new Set<string>([MediaType.ociIndex, MediaType.dockerManifestList]);
const MANIFEST_TYPES = new Set<string>([MediaType.ociManifest, MediaType.dockerManifest]);

// Roots known only by digest (cache records, leases) are read to see whether they are a
// manifest or an index; bigger blobs are layers and are not worth parsing.
const SNIFF_LIMIT = 4 << 20;

/**
 * Collects garbage. Leases are read first, under the leases lock held for the whole run: a
 * writer that records an image before deleting its lease is always seen one way or the other,
 * and nobody can lease a blob in the middle of the sweep.
 */
/** What a collection is about to delete, for records that point at it to let go first. */
export interface Doomed {
  blobs: ReadonlySet<string>;
  snapshots: ReadonlySet<string>;
}

export async function collectGarbage(
  store: Store,
  opts: { snapshots?: SnapshotSource; beforeSweep?: (doomed: Doomed) => Promise<void> } = {},
): Promise<GcResult> {
  return store.leases.whileHeld(async (leases) => {
    const leasedBlobs: string[] = [];
    const keptSnapshots = new Set<string>();
    for (const lease of leases) {
      for (const r of lease.resources) {
        if (r.kind === 'blob') leasedBlobs.push(r.key);
        else keptSnapshots.add(r.key);
      }
    }
    const cached = await cacheRoots(store.root);
    const images = await store.images.list();

    const marker = new Marker(store);
    for (const digest of [...leasedBlobs, ...cached]) await marker.walk(digest);
    for (const img of images) await marker.walk(img.target.digest, img.target.mediaType);

    const doomedBlobs = (await store.content.list()).filter((b) => !marker.marked.has(b.digest));
    for (const key of marker.chainIds) keptSnapshots.add(key);
    const doomedSnapshots = opts.snapshots ? await planSnapshotSweep(opts.snapshots, keptSnapshots, new Set(leases.map((l) => l.id))) : [];
    // Records that name what goes let go of it first: a collection killed midway leaves garbage, never a dangling record.
    await opts.beforeSweep?.({ blobs: new Set(doomedBlobs.map((b) => b.digest)), snapshots: new Set(doomedSnapshots) });

    let bytes = 0;
    for (const blob of doomedBlobs) {
      await store.content.delete(blob.digest);
      bytes += blob.size;
    }
    bytes += (await cleanIngest(store.root)).bytes;
    for (const key of doomedSnapshots) {
      bytes += await opts.snapshots!.usage(key);
      await opts.snapshots!.remove(key);
    }
    return { blobs: doomedBlobs.length, bytes, snapshots: doomedSnapshots.length };
  });
}

class Marker {
  readonly marked = new Set<string>();
  readonly chainIds = new Set<string>();

  constructor(private readonly store: Store) {}

  async walk(digest: string, mediaType?: string): Promise<void> {
    if (!isDigest(digest) || this.marked.has(digest)) return;
    this.marked.add(digest);
    const info = await this.store.content.info(digest);
    // A record may name content that was never fetched (other platforms of an index).
    if (info === undefined) return;
    let doc: Partial<Manifest & Index> | undefined;
    if (mediaType !== undefined && (INDEX_TYPES.has(mediaType) || MANIFEST_TYPES.has(mediaType))) {
      doc = await this.store.content.readJSON(digest);
    } else if (info.size <= SNIFF_LIMIT) {
      doc = await this.sniff(digest);
    }
    if (doc === undefined) return;
    if (Array.isArray(doc.manifests)) {
      for (const m of doc.manifests) await this.walk(m.digest, m.mediaType);
    }
    if (doc.config !== undefined && Array.isArray(doc.layers)) {
      this.marked.add(doc.config.digest);
      for (const l of doc.layers) this.marked.add(l.digest);
      await this.markChain(doc.config.digest);
    }
  }

  private async sniff(digest: string): Promise<Partial<Manifest & Index> | undefined> {
    const bytes = await this.store.content.read(digest);
    if (bytes[0] !== 0x7b /* { */) return undefined;
    try {
      return JSON.parse(bytes.toString('utf8')) as Partial<Manifest & Index>;
    } catch {
      return undefined;
    }
  }

  private async markChain(configDigest: string): Promise<void> {
    if (!isDigest(configDigest) || !(await this.store.content.has(configDigest))) return;
    let config: Partial<ImageConfig>;
    try {
      config = await this.store.content.readJSON<Partial<ImageConfig>>(configDigest);
    } catch {
      return; // an artifact's config need not be JSON
    }
    const diffIds = config.rootfs?.diff_ids;
    if (Array.isArray(diffIds)) for (const id of chainIds(diffIds)) this.chainIds.add(id);
  }
}

/**
 * Digests listed by cache records (`<root>/cache/*.json`, each with a `digests` array). A record
 * that cannot be read protects nothing: losing cache costs a rebuild, not data.
 */
async function cacheRoots(root: string): Promise<string[]> {
  const dir = path.join(root, 'cache');
  const out: string[] = [];
  for (const name of (await dirEntries(dir)).filter((n) => n.endsWith('.json'))) {
    try {
      const rec = JSON.parse(await readFile(path.join(dir, name), 'utf8')) as { digests?: unknown };
      if (Array.isArray(rec.digests)) out.push(...rec.digests.filter((d): d is string => typeof d === 'string'));
    } catch {
      continue;
    }
  }
  return out;
}

/**
 * Removes every snapshot that is neither kept, nor marked with a live lease (a running build's),
 * nor a parent of one of those, children before parents.
 */
/** The snapshots no kept key, chain or live lease holds, children before their parents. */
async function planSnapshotSweep(source: SnapshotSource, keep: Set<string>, liveLeases: Set<string>): Promise<string[]> {
  const all = await source.list();
  const parentOf = new Map(all.map((s) => [s.key, s.parent]));
  const kept = new Set<string>();
  const marked = all.filter((s) => liveLeases.has(s.labels?.[LEASE_LABEL] ?? '')).map((s) => s.key);
  for (const key of [...keep, ...marked]) {
    for (let k: string | undefined = key; k !== undefined && parentOf.has(k) && !kept.has(k); k = parentOf.get(k)) {
      kept.add(k);
    }
  }
  const depth = (key: string): number => {
    let d = 0;
    for (let p = parentOf.get(key); p !== undefined && d <= parentOf.size; p = parentOf.get(p)) d++;
    return d;
  };
  return all
    .filter((s) => !kept.has(s.key))
    .map((s) => ({ key: s.key, depth: depth(s.key) }))
    .sort((a, b) => b.depth - a.depth)
    .map((s) => s.key);
}
