// An image in the compression and media types an output asks for (buildx's compression=,
// compression-level=, force-compression=, oci-mediatypes=), as BuildKit's exporters decide it:
// the layers the build made get the compression asked for; the base image's layers keep theirs
// unless force-compression is set. Each layer is recompressed once by the layer engine and
// remembered (CompressedLayers), so the same image converted again compresses nothing. The
// config (its diff_ids) is the same whatever the compression; the manifest's descriptors change.
import { unlink } from 'node:fs/promises';
import { native } from '../native/binding.js';
import { MediaType, type Descriptor } from '../oci/image-spec.js';
import { ingestPath } from '../snapshotter/ingest.js';
import type { Store } from '../snapshotter/store.js';
import { CompressedLayers } from './compressed-layers.js';
import { manifestBlob } from './manifest.js';
import type { BuiltImage, CompressionSpec, LayerCompression } from './build-output.js';

const DEFAULT_LEVEL: Record<LayerCompression, number> = { gzip: 6, zstd: 3, uncompressed: 0 };

const LAYER_TYPES: Record<LayerCompression, { oci: string; docker: string }> = {
  gzip: { oci: MediaType.ociLayerGzip, docker: MediaType.dockerLayerGzip },
  zstd: { oci: MediaType.ociLayerZstd, docker: MediaType.dockerLayerZstd },
  uncompressed: { oci: MediaType.ociLayer, docker: MediaType.dockerLayer },
};

/** The compression a layer media type names (either family). */
export function compressionOf(mediaType: string): LayerCompression | undefined {
  for (const [c, t] of Object.entries(LAYER_TYPES) as [LayerCompression, { oci: string; docker: string }][]) {
    if (mediaType === t.oci || mediaType === t.docker) return c;
  }
  return undefined;
}

export interface ConvertOptions {
  /** The lease that holds new blobs until an image record names them. */
  lease: string;
  emit?: (e: { type: 'export.start' | 'export.done'; what: string; time: number }) => void;
}

/** `image` as `spec` says; the image itself when nothing changes. */
export async function convertImage<T extends BuiltImage>(store: Store, image: T, spec: CompressionSpec, opts: ConvertOptions): Promise<T> {
  const records = await CompressedLayers.open(store.root);
  const diffIds = image.config.rootfs.diff_ids;
  const firstNew = image.manifest.layers.length - image.newLayers;
  const layers: Descriptor[] = [];
  for (const [i, layer] of image.manifest.layers.entries()) {
    const current = compressionOf(layer.mediaType);
    const made = i >= firstNew;
    // The build's own layers are kiln's gzip at the default level; a base layer is taken as it came.
    const wanted = current === undefined ? false : made ? current !== spec.compression || (spec.level !== undefined && spec.level !== DEFAULT_LEVEL[current]) : spec.force && current !== spec.compression;
    const blob = wanted ? await recompress(store, records, layer, diffIds[i]!, spec, opts) : { ...layer };
    const kind = compressionOf(blob.mediaType);
    if (kind !== undefined) blob.mediaType = LAYER_TYPES[kind][spec.ociMediaTypes ? 'oci' : 'docker'];
    layers.push(blob);
  }
  const config: Descriptor = { ...image.manifest.config, mediaType: spec.ociMediaTypes ? MediaType.ociConfig : MediaType.dockerConfig };
  const out = manifestBlob(config, layers, spec.ociMediaTypes ? MediaType.ociManifest : MediaType.dockerManifest);
  if (out.descriptor.digest === image.manifestDigest) return image;
  await store.leases.add(opts.lease, { kind: 'blob', key: out.descriptor.digest });
  await store.content.write(out.data, out.descriptor.digest);
  return { ...image, manifestDigest: out.descriptor.digest, manifestSize: out.descriptor.size, manifest: out.manifest };
}

/** The layer in the spec's compression: the remembered blob when the store still has it, else made now. */
async function recompress(store: Store, records: CompressedLayers, layer: Descriptor, diffId: string, spec: CompressionSpec, opts: ConvertOptions): Promise<Descriptor> {
  const level = spec.level ?? DEFAULT_LEVEL[spec.compression];
  const known = records.get(diffId, spec.compression, level);
  if (known !== undefined) {
    await store.leases.add(opts.lease, { kind: 'blob', key: known.digest });
    if (await store.content.has(known.digest)) return { ...known };
  }
  const what = `compressing layer ${diffId} to ${spec.compression}${spec.level !== undefined ? ` level ${spec.level}` : ''}`;
  opts.emit?.({ type: 'export.start', what, time: Date.now() });
  const output = ingestPath(store.root);
  try {
    const info = await native.compressLayer({
      input: store.content.blobPath(layer.digest),
      output,
      compression: spec.compression === 'uncompressed' ? 'none' : spec.compression,
      ...(spec.compression !== 'uncompressed' ? { level } : {}),
    });
    // The layer engine re-hashes the tar it read: a store blob that no longer holds its layer is not passed on.
    if (info.diffId !== diffId) throw new Error(`layer ${layer.digest} unpacks to ${info.diffId}, not its diff_id ${diffId}; run kiln store verify`);
    await store.leases.add(opts.lease, { kind: 'blob', key: info.digest });
    await store.content.ingestFile(output, { expected: info.digest, move: true });
    const blob: Descriptor = { digest: info.digest, size: info.size, mediaType: info.mediaType };
    await records.put(diffId, spec.compression, level, blob);
    opts.emit?.({ type: 'export.done', what, time: Date.now() });
    return blob;
  } finally {
    await unlink(output).catch(() => undefined);
  }
}
