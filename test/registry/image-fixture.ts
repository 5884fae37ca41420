// Test images for the registry client: random blobs standing for layers (the registry does not
// look inside), a config and a manifest, written into a real content store as pushImage reads them.
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { MediaType, type Descriptor, type Index, type Manifest, type Platform } from '../../oci/image-spec.js';
import { sha256Digest } from '../../oci/digest.js';
import type { ContentStore } from '../../snapshotter/content.js';
import { pushImage, putManifest, type PushImage } from '../../registry/push.js';
import type { RegistryClient } from '../../registry/client.js';

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

/**
 * Pushes an amd64 and an arm64/v8 image and an OCI index of the two under `tag`; returns the
 * index's digest and the images.
 */
export async function pushTwoPlatformIndex(client: RegistryClient, store: ContentStore, repo: string, tag: string): Promise<{ indexDigest: string; amd: FixtureImage; arm: FixtureImage }> {
  const amd = await makeImage(store, [1000], { arch: 'amd64' });
  const arm = await makeImage(store, [2000], { arch: 'arm64' });
  await pushImage(client, repo, amd.push, repo);
  await pushImage(client, repo, arm.push, repo);
  const entry = (img: FixtureImage, platform: Platform): Descriptor => ({ mediaType: MediaType.ociManifest, digest: img.manifestDigest, size: img.push.manifests[0]!.bytes.length, platform });
  const index: Index = {
    schemaVersion: 2,
    mediaType: MediaType.ociIndex,
    manifests: [entry(amd, { os: 'linux', architecture: 'amd64' }), entry(arm, { os: 'linux', architecture: 'arm64', variant: 'v8' })],
  };
  const bytes = Buffer.from(JSON.stringify(index));
  const indexDigest = sha256Digest(bytes);
  await putManifest(client, repo, { digest: indexDigest, mediaType: MediaType.ociIndex, bytes }, tag, repo);
  return { indexDigest, amd, arm };
}
