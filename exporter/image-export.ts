// A solved result as an image in the store: one gzip layer per snapshot of its chain (reused when
// the snapshot already has one), the frontend's config completed with diff_ids, created time and
// history, an OCI manifest, and the names it is tagged with.
import type { Store } from '../snapshotter/store.js';
import type { LeaseResource } from '../snapshotter/leases.js';
import { asDiskFull } from '../snapshotter/disk-full.js';
import type { Snapshotter, SnapshotInfo } from '../snapshotter/snapshots.js';
import type { HistoryEntry, ImageConfig, Manifest } from '../oci/image-spec.js';
import { LAYER_LABEL, type LayerLabel } from '../snapshotter/unpack.js';
import { normalizeName } from '../snapshotter/image-read.js';
import { configBlob, manifestBlob, type Blob } from './manifest.js';
import { LayerIndex } from './layer-index.js';
import { snapshotLayer } from './snapshot-layer.js';

export interface ExportImageOptions {
  /** The image config the frontend built; its rootfs, created time and history are completed here. */
  config: ImageConfig;
  /** Names to record the image under (`-t`), normalised as Docker does. */
  names: string[];
  /** SOURCE_DATE_EPOCH (seconds): the image's created time and the clamp for file mtimes. */
  sourceDateEpoch?: number;
  /** A lease the caller holds: the blobs are added to it and it outlives the export, for outputs written after it. */
  lease?: string;
  emit?: (e: ExportEvent) => void;
}

export interface ExportedImage {
  manifestDigest: string;
  manifestSize: number;
  configDigest: string;
  manifest: Manifest;
  config: ImageConfig;
  /** How many of the top layers the build made (the rest are its base image's). */
  newLayers: number;
}

/** What an export reports as it goes (the solver's progress stream carries the same events). */
export interface ExportEvent {
  type: 'export.start' | 'export.done';
  what: string;
  time: number;
}

/** Exports the committed snapshot `top` (null: an image without layers) and its chain. */
export async function exportImage(store: Store, snapshotter: Snapshotter, top: string | null, opts: ExportImageOptions): Promise<ExportedImage> {
  const emit = opts.emit ?? (() => undefined);
  // Blobs written before the image record names them are held by a lease, so a concurrent GC leaves them.
  const lease = opts.lease ?? (await store.leases.create({ owned: true }));
  try {
    emit({ type: 'export.start', what: 'exporting layers', time: Date.now() });
    const chain = await snapshotChain(snapshotter, top);
    const times: ImageTimes = opts.sourceDateEpoch !== undefined ? { epoch: new Date(opts.sourceDateEpoch * 1000).toISOString() } : { layers: chain.map((s) => s.created) };
    const index = await LayerIndex.open(store.root);
    const unpacked = chain.map((snap) => parseLabel(snap.labels[LAYER_LABEL]));
    const known = unpacked.map((l, i) => l ?? index.get(chain[i]!.key, chain[i]!.created, opts.sourceDateEpoch));
    // A base image's layers are the snapshots unpacked from it, at the bottom of the chain.
    const newLayers = chain.length - unpacked.reduce((base, l, i) => (l !== undefined ? i + 1 : base), 0);
    // Blobs join the lease before they are checked or written, so a GC running meanwhile cannot
    // take them. A cached build knows every layer, and so its config and manifest, up front: all
    // of them go in one record write.
    let image = known.every((l): l is LayerLabel => l !== undefined) ? imageBlobs(opts.config, known, times) : undefined;
    await store.leases.add(lease, ...known.flatMap((l) => (l ? [blobResource(l.digest)] : [])), ...(image ? image.resources : []));
    const present = await Promise.all(known.map((l) => (l ? store.content.has(l.digest) : false)));
    const layers: LayerLabel[] = [];
    for (const [i, snap] of chain.entries()) layers.push(present[i] ? known[i]! : await diffLayer(store, snapshotter, index, snap, lease, opts.sourceDateEpoch));
    emit({ type: 'export.done', what: 'exporting layers', time: Date.now() });

    if (!image || layers.some((l, i) => l !== known[i])) {
      image = imageBlobs(opts.config, layers, times);
      await store.leases.add(lease, ...image.resources);
    }
    const { config, configJson, manifestJson } = image;
    await Promise.all([store.content.write(configJson.data, configJson.descriptor.digest), store.content.write(manifestJson.data, manifestJson.descriptor.digest)]);

    const target = manifestJson.descriptor;
    emit({ type: 'export.start', what: `writing image ${target.digest}`, time: Date.now() });
    for (const name of opts.names) {
      const full = normalizeName(name);
      emit({ type: 'export.start', what: `naming to ${full}`, time: Date.now() });
      await store.images.put({ name: full, target, created: new Date().toISOString() });
      emit({ type: 'export.done', what: `naming to ${full}`, time: Date.now() });
    }
    emit({ type: 'export.done', what: `writing image ${target.digest}`, time: Date.now() });
    return { manifestDigest: target.digest, manifestSize: target.size, configDigest: configJson.descriptor.digest, manifest: manifestJson.manifest, config, newLayers };
  } catch (err) {
    throw asDiskFull(err, store.root, 'exporting the image');
  } finally {
    if (opts.lease === undefined) await store.leases.delete(lease).catch(() => undefined);
  }
}

function blobResource(digest: string): LeaseResource {
  return { kind: 'blob', key: digest };
}

/** The image config on some layers and the manifest naming them, as the bytes the store gets. */
interface ImageBlobs {
  config: ImageConfig;
  configJson: Blob;
  manifestJson: Blob & { manifest: Manifest };
  resources: LeaseResource[];
}

function imageBlobs(base: ImageConfig, layers: LayerLabel[], times: ImageTimes): ImageBlobs {
  const config = imageConfig(base, layers, times);
  const configJson = configBlob(config);
  const manifestJson = manifestBlob(configJson.descriptor, layers);
  return { config, configJson, manifestJson, resources: [blobResource(configJson.descriptor.digest), blobResource(manifestJson.descriptor.digest)] };
}

/** The committed snapshots from the bottom layer up to `top`. */
async function snapshotChain(snapshotter: Snapshotter, top: string | null): Promise<SnapshotInfo[]> {
  const chain: SnapshotInfo[] = [];
  for (let key = top ?? undefined; key !== undefined; ) {
    const info = await snapshotter.stat(key);
    if (!info) throw new Error(`snapshot ${key} of the build result is gone (removed while the build ran?)`);
    chain.push(info);
    key = info.parent;
  }
  return chain.reverse();
}

/** A new layer for a snapshot the layer index does not know yet, remembered there. */
async function diffLayer(store: Store, snapshotter: Snapshotter, index: LayerIndex, snap: SnapshotInfo, lease: string, sourceDateEpoch: number | undefined): Promise<LayerLabel> {
  const layer = await snapshotLayer(store, snapshotter, snap.key, { lease, ...(sourceDateEpoch !== undefined ? { sourceDateEpoch } : {}) });
  await index.put(snap.key, snap.created, sourceDateEpoch, layer);
  return layer;
}

function parseLabel(text: string | undefined): LayerLabel | undefined {
  if (text === undefined) return undefined;
  try {
    const l = JSON.parse(text) as Partial<LayerLabel>;
    if (typeof l.digest === 'string' && typeof l.diffId === 'string' && typeof l.size === 'number' && typeof l.mediaType === 'string') {
      return { digest: l.digest, diffId: l.diffId, size: l.size, mediaType: l.mediaType };
    }
  } catch {
    // A damaged label only costs a fresh diff.
  }
  return undefined;
}

/** SOURCE_DATE_EPOCH for every time, or else the commit time of each layer's snapshot. */
export type ImageTimes = { epoch: string } | { layers: string[] };

/**
 * The frontend's config with the layers the export made. History entries that claim a layer are
 * matched to the layers in order; entries beyond the layers become empty, and layers beyond the
 * entries get one of their own, so tools that pair history with layers (docker history) line up.
 *
 * Times follow BuildKit's exporter: without SOURCE_DATE_EPOCH a new layer's entry gets the time
 * its snapshot was made, an empty entry the time of the layer entry before it (the first new
 * layer's, when none is before), and the image the last entry's. So a rebuild that reuses every
 * cached step yields the same image, digest included, while any step that re-runs moves the time.
 */
export function imageConfig(base: ImageConfig, layers: LayerLabel[], times: ImageTimes): ImageConfig {
  const config = structuredClone(base);
  config.rootfs = { type: 'layers', diff_ids: layers.map((l) => l.diffId) };
  const history: HistoryEntry[] = [];
  let used = 0;
  for (const entry of config.history ?? []) {
    const e: HistoryEntry = { ...entry };
    if (!e.empty_layer) {
      if (used < layers.length) {
        if (e.created === undefined && 'layers' in times) e.created = times.layers[used];
        used++;
      } else e.empty_layer = true;
    }
    history.push(e);
  }
  for (; used < layers.length; used++) history.push({ ...('layers' in times ? { created: times.layers[used] } : {}), created_by: 'kiln: layer without a history entry', comment: 'kiln' });
  if ('epoch' in times) {
    for (const e of history) e.created ??= times.epoch;
    config.created = times.epoch;
  } else {
    fillEmptyEntryTimes(history);
    config.created = history.at(-1)?.created ?? new Date().toISOString();
  }
  config.history = history;
  return config;
}

/**
 * Entries still without a time (metadata steps) take the time of the newest layer entry before
 * them, counting only the build's own layers; before the first of those, the first one's. An image
 * with no new layer takes its base's last time.
 */
function fillEmptyEntryTimes(history: HistoryEntry[]): void {
  const firstUntimed = history.findIndex((e) => e.created === undefined);
  if (firstUntimed < 0) return;
  let last = history.slice(firstUntimed).find((e) => e.created !== undefined)?.created ?? history.slice(0, firstUntimed).at(-1)?.created;
  for (const e of history.slice(firstUntimed)) {
    if (e.created === undefined) e.created = last;
    else last = e.created;
  }
}
