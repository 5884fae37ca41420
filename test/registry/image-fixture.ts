// Test images for the registry client: random blobs standing for layers (the registry does not
// look inside), a config and a manifest, written into a real content store as pushImage reads them.
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { MediaType, type Descriptor, type Manifest } from '../../oci/image-spec.js';
import { sha256Digest } from '../../oci/digest.js';
import type { ContentStore } from '../../snapshotter/content.js';
import type { PushImage } from '../../registry/push.js';

export interface FixtureImage {
  push: PushImage;
  manifest: Manifest;
  manifestDigest: string;
  blobs: Descriptor[];
}

/** Stores `data` and describes it. */
async function put(store: ContentStore, mediaType: string, data: Buffer): Promise<Descriptor> {
  const info = await store.write(data);
  return { mediaType, digest: info.digest, size: info.size };
}

/** A manifest over random layers of the given sizes, its blobs in `store`. */
export async function makeImage(store: ContentStore, layerSizes: number[], opts: { arch?: string; docker?: boolean; mountFrom?: string[] } = {}): Promise<FixtureImage> {
  const layers = await Promise.all(layerSizes.map((n) => put(store, opts.docker ? MediaType.dockerLayerGzip : MediaType.ociLayerGzip, randomBytes(n))));
  const config = await put(
    store,
    opts.docker ? MediaType.dockerConfig : MediaType.ociConfig,
    Buffer.from(JSON.stringify({ architecture: opts.arch ?? 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) } })),
  );
  const manifest: Manifest = { schemaVersion: 2, mediaType: opts.docker ? MediaType.dockerManifest : MediaType.ociManifest, config, layers };
  const bytes = Buffer.from(JSON.stringify(manifest));
  const digest = sha256Digest(bytes);
  const blobs = [config, ...layers];
  return {
    manifest,
    manifestDigest: digest,
    blobs,
    push: {
      blobs: blobs.map((desc) => ({ desc, read: (start, end) => createReadStream(store.blobPath(desc.digest), { start, end: end - 1 }), ...(opts.mountFrom ? { mountFrom: opts.mountFrom } : {}) })),
      manifests: [{ digest, mediaType: manifest.mediaType!, bytes }],
    },
  };
}
