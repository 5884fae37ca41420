// What an archive reader hands the loader: the verified blobs to ingest, blobs it had to make
// (manifests for docker archives), and the images with the names the archive gives them.
import type { Descriptor } from '../oci/image-spec.js';
import type { StagedFile } from './archive-stage.js';

export interface PlannedImage {
  /** Names as written in the archive (normalised by the loader); empty for an unnamed image. */
  names: string[];
  target: Descriptor;
  /** The image ID docker prints for an unnamed image; the target digest when it is an index. */
  id: string;
}

export interface LoadPlan {
  /** Referenced blobs, already checked against their digests. */
  blobs: Map<string, StagedFile>;
  /** Blobs the reader generated, by digest. */
  generated: Map<string, Buffer>;
  images: PlannedImage[];
}
