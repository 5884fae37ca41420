// One image as `kiln save` writes it: what index.json points at, the platform manifest a
// docker-style manifest.json lists, and every blob that goes into the archive.
import type { Descriptor, ImageConfig, Manifest } from '../oci/image-spec.js';

export interface SavedImage {
  /** Fully-qualified name (`docker.io/library/busybox:latest`); absent when saved by digest. */
  name?: string;
  /** The tag alone, for `org.opencontainers.image.ref.name`. */
  tag?: string;
  /** Docker's short form (`busybox:latest`), for RepoTags and `repositories`. */
  repoTag?: string;
  /** The manifest or index the name points at. */
  target: Descriptor;
  /** The single-platform manifest docker's manifest.json describes. */
  manifest: Manifest;
  manifestDigest: string;
  config: ImageConfig;
  /** Every blob to write: target, child manifests, configs, layers. */
  blobs: Descriptor[];
}

/** Where a blob's bytes are (the content store's path for it). */
export type BlobPath = (digest: string) => string;
