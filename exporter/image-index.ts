// A multi-platform build's result in the store: its platform images under one OCI index (each
// entry naming the platform it was built for, as BuildKit's exporter writes it), the index
// recorded under the build's names as a pulled multi-platform image is.
import { MediaType, type Descriptor, type Index, type Platform } from '../oci/image-spec.js';
import type { Store } from '../snapshotter/store.js';
import { normalizeName } from '../snapshotter/image-read.js';
import type { ExportedImage, ExportEvent } from './image-export.js';
import { indexBlob } from './manifest.js';

export interface PlatformImage extends ExportedImage {
  /** The target platform it was built for. */
  platform: Platform;
}

export interface ExportedIndex {
  descriptor: Descriptor;
  index: Index;
  /** In the order of the index's entries (the order the platforms were asked for). */
  images: PlatformImage[];
}

export interface ExportIndexOptions {
  names: string[];
  /** The caller's lease, which holds the images' blobs: the index joins it before it is written. */
  lease: string;
  emit?: (e: ExportEvent) => void;
}

export async function exportIndex(store: Store, images: PlatformImage[], opts: ExportIndexOptions): Promise<ExportedIndex> {
  const emit = opts.emit ?? (() => undefined);
  const blob = indexBlob(images.map((img) => ({ manifest: { mediaType: img.manifest.mediaType ?? MediaType.ociManifest, digest: img.manifestDigest, size: img.manifestSize }, platform: img.platform })));
  const what = `writing image index ${blob.descriptor.digest}`;
  emit({ type: 'export.start', what, time: Date.now() });
  await store.leases.add(opts.lease, { kind: 'blob', key: blob.descriptor.digest });
  await store.content.write(blob.data, blob.descriptor.digest);
  for (const name of opts.names) {
    const full = normalizeName(name);
    emit({ type: 'export.start', what: `naming to ${full}`, time: Date.now() });
    await store.images.put({ name: full, target: blob.descriptor, created: new Date().toISOString() });
    emit({ type: 'export.done', what: `naming to ${full}`, time: Date.now() });
  }
  emit({ type: 'export.done', what, time: Date.now() });
  return { descriptor: blob.descriptor, index: blob.index, images };
}
