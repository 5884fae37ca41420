// How kiln serialises the manifests and configs it makes itself (build, import, commit, docker
// load), in one place, so the same image always gets the same digest however it came in.
import { MediaType, type Descriptor, type ImageConfig, type Index, type Manifest, type Platform } from '../oci/image-spec.js';
import { sha256Digest } from '../oci/digest.js';

export interface Blob {
  descriptor: Descriptor;
  data: Buffer;
}

function blob(mediaType: string, value: unknown): Blob {
  const data = Buffer.from(JSON.stringify(value));
  const digest = sha256Digest(data);
  return { descriptor: { mediaType, digest, size: data.length }, data };
}

export function configBlob(config: ImageConfig): Blob {
  return blob(MediaType.ociConfig, config);
}

/** `mediaType`: OCI's, or Docker schema2's for outputs with oci-mediatypes=false. */
export function manifestBlob(config: Descriptor, layers: Descriptor[], mediaType: string = MediaType.ociManifest): Blob & { manifest: Manifest } {
  const manifest: Manifest = {
    schemaVersion: 2,
    mediaType,
    config: { mediaType: config.mediaType, digest: config.digest, size: config.size },
    layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
  };
  return { ...blob(mediaType, manifest), manifest };
}

/** An OCI index of platform manifests, each entry carrying its platform as BuildKit writes it. */
export function indexBlob(entries: readonly { manifest: Descriptor; platform: Platform }[]): Blob & { index: Index } {
  const index: Index = {
    schemaVersion: 2,
    mediaType: MediaType.ociIndex,
    manifests: entries.map(({ manifest, platform }) => ({
      mediaType: manifest.mediaType,
      digest: manifest.digest,
      size: manifest.size,
      platform: { architecture: platform.architecture, os: platform.os, ...(platform.variant ? { variant: platform.variant } : {}) },
    })),
  };
  return { ...blob(MediaType.ociIndex, index), index };
}

export function isIndexMediaType(mediaType: string | undefined): boolean {
  return mediaType === MediaType.ociIndex || mediaType === MediaType.dockerManifestList;
}

export function isManifestMediaType(mediaType: string | undefined): boolean {
  return mediaType === MediaType.ociManifest || mediaType === MediaType.dockerManifest;
}
