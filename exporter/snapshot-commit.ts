// `kiln commit`'s image: the container's image plus one layer of its writable snapshot's changes,
// with the image's config and a history entry for the container's command.
import type { ImageConfig, Manifest } from '../oci/image-spec.js';
import type { Snapshotter } from '../snapshotter/snapshots.js';
import type { Store } from '../snapshotter/store.js';
import { normalizeName } from '../snapshotter/image-read.js';
import { configBlob, manifestBlob } from './manifest.js';
import { snapshotLayer } from './snapshot-layer.js';

export interface SnapshotCommit {
  /** The snapshot to export (a container's writable one; it stays as it is). */
  snapshot: string;
  /** The image the snapshot was made on. */
  manifestDigest: string;
  configDigest: string;
  /** The new history entry's command and optional comment. */
  createdBy: string;
  message?: string;
  /** The name to record the new image under. */
  name: string;
}

/** Writes the new image (layer, config, manifest, record) and returns its config digest, the image ID. */
export async function commitSnapshot(store: Store, snapshotter: Snapshotter, c: SnapshotCommit): Promise<string> {
  const name = normalizeName(c.name);
  const manifest = await store.content.readJSON<Manifest>(c.manifestDigest);
  const image = await store.content.readJSON<ImageConfig>(c.configDigest);
  // The new blobs are held until the image record names them, as a build's are.
  const lease = await store.leases.create({ owned: true });
  try {
    const layer = await snapshotLayer(store, snapshotter, c.snapshot, { lease });
    const created = new Date().toISOString();
    const next: ImageConfig = {
      ...image,
      created,
      rootfs: { type: 'layers', diff_ids: [...image.rootfs.diff_ids, layer.diffId] },
      history: [...(image.history ?? []), { created, created_by: c.createdBy, ...(c.message ? { comment: c.message } : {}) }],
    };
    const cfg = configBlob(next);
    const m = manifestBlob(cfg.descriptor, [...manifest.layers, layer]);
    await store.leases.add(lease, { kind: 'blob', key: cfg.descriptor.digest }, { kind: 'blob', key: m.descriptor.digest });
    await store.content.write(cfg.data, cfg.descriptor.digest);
    await store.content.write(m.data, m.descriptor.digest);
    await store.images.put({ name, target: m.descriptor, created });
    return cfg.descriptor.digest;
  } finally {
    await store.leases.delete(lease).catch(() => undefined);
  }
}
