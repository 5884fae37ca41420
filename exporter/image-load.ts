// `kiln load`: reads an OCI layout or docker archive tar (optionally gzip-compressed), checks every
// blob against its digest, and only then stores the blobs and records the images' names.
import type { Descriptor } from '../oci/image-spec.js';
import { asDiskFull } from '../snapshotter/disk-full.js';
import { ingestPath } from '../snapshotter/ingest.js';
import { normalizeName } from '../snapshotter/image-read.js';
import type { Store } from '../snapshotter/store.js';
import { detectArchive, maybeGunzip } from './archive-detect.js';
import { stageArchive } from './archive-stage.js';
import { readDockerArchive } from './docker-archive.js';
import { ArchiveFormatError } from './errors.js';
import type { LoadPlan } from './load-plan.js';
import { readOciLayout } from './oci-layout.js';
import { isUserError } from '../errors/kiln-error.js';

export interface LoadedImage {
  /** Fully-qualified names recorded for the image; empty when the archive names none. */
  names: string[];
  /** Config digest (the image ID docker prints), or the index digest for a multi-platform image. */
  id: string;
  target: Descriptor;
}

export interface LoadOptions {
  /** Called for each blob newly stored (not for those the store already had). */
  onBlob?: ((digest: string, size: number) => void) | undefined;
}

/** `source` names the archive in messages (its path, or "stdin"). */
export async function loadArchive(
  store: Store,
  src: NodeJS.ReadableStream,
  source: string,
  opts: LoadOptions = {},
): Promise<LoadedImage[]> {
  try {
    return await load(store, src, source, opts);
  } catch (err) {
    // Staging the archive and storing its blobs both write into the store.
    throw asDiskFull(err, store.root, `loading ${source}`);
  }
}

async function load(store: Store, src: NodeJS.ReadableStream, source: string, opts: LoadOptions): Promise<LoadedImage[]> {
  const { stream } = await maybeGunzip(
    src,
    (c) => new ArchiveFormatError(source, `${c}-compressed archives are not supported; decompress it first`),
  );
  const staged = await stageArchive(stream, () => ingestPath(store.root), source);
  try {
    const kind = detectArchive(staged.names(), source);
    const plan: LoadPlan = kind === 'oci' ? await readOciLayout(staged) : await readDockerArchive(staged);
    const images = plan.images.map((img) => ({
      names: img.names.map((n) => {
        try {
          return normalizeName(n);
        } catch (err) {
          if (!isUserError(err)) throw err;
          throw new ArchiveFormatError(source, `image name "${n}" is not a valid reference (${err.message})`);
        }
      }),
      id: img.id,
      target: img.target,
    }));
    // Everything is verified; from here on only store writes remain.
    for (const [digest, file] of plan.blobs) {
      if (await store.content.has(digest)) continue;
      await store.content.ingestFile(file.path, { expected: digest, move: true });
      opts.onBlob?.(digest, file.size);
    }
    for (const [digest, data] of plan.generated) {
      if (await store.content.has(digest)) continue;
      await store.content.write(data, digest);
      opts.onBlob?.(digest, data.length);
    }
    const created = new Date().toISOString();
    for (const img of images) {
      for (const name of img.names) await store.images.put({ name, target: img.target, created });
    }
    return images;
  } finally {
    await staged.cleanup();
  }
}
