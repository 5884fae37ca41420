// The images in a store, as `docker images`, `tag`, `rmi`, `inspect` and `history` see them:
// names normalised as Docker does, image IDs (config digests), the host's platform of an index.
import { familiarName, formatReference, parseReference, InvalidReferenceError } from '../oci/reference.js';
import { hostPlatform } from '../oci/platform.js';
import { isUserError } from '../errors/kiln-error.js';
import { ImageConflictError } from '../snapshotter/errors.js';
import { readRecord, resolveImage, type ResolvedImage } from '../snapshotter/image-read.js';
import type { ImageRecord } from '../snapshotter/images.js';
import type { Index } from '../oci/image-spec.js';
import { MediaType } from '../oci/image-spec.js';
import type { Store } from '../snapshotter/store.js';

export { resolveImage, type ResolvedImage };

export interface ImageSummary {
  /** Docker's familiar name (`busybox`, `reg:5000/app`). */
  repository: string;
  tag: string;
  digest: string;
  /** Full `sha256:…` of the config, or of the target when it cannot be read. */
  id: string;
  created?: string;
  /** Sum of the layer sizes; undefined when the manifest cannot be read. */
  size?: number;
}

async function summary(store: Store, rec: ImageRecord): Promise<ImageSummary> {
  const ref = parseReference(rec.name);
  const base = {
    repository: familiarName({ domain: ref.domain, path: ref.path }),
    tag: ref.tag ?? '<none>',
    digest: ref.digest ?? rec.target.digest,
  };
  try {
    const img = await readRecord(store, rec, hostPlatform());
    return {
      ...base,
      id: img.configDigest,
      ...(img.config.created !== undefined && { created: img.config.created }),
      size: img.manifest.layers.reduce((n, l) => n + l.size, 0),
    };
  } catch (err) {
    // An image missing blobs or the host's platform is still listed, so it can be found and removed.
    if (!isUserError(err)) throw err;
    return { ...base, id: rec.target.digest };
  }
}

/** Every named image, newest first, as docker lists them. */
export async function listImages(store: Store): Promise<ImageSummary[]> {
  const rows: ImageSummary[] = [];
  for (const rec of await store.images.list()) rows.push(await summary(store, rec));
  return rows.sort((a, b) => (b.created ?? '').localeCompare(a.created ?? '') || a.repository.localeCompare(b.repository) || a.tag.localeCompare(b.tag));
}

/** The index a record points at (a multi-platform image), or undefined for a single-platform one. */
export async function imageIndex(store: Store, rec: ImageRecord): Promise<Index | undefined> {
  if (rec.target.mediaType !== MediaType.ociIndex && rec.target.mediaType !== MediaType.dockerManifestList) return undefined;
  return store.content.readJSON<Index>(rec.target.digest);
}

/** Points the name `target` at the image `source` names (a name, digest or image ID). */
export async function tagImage(store: Store, source: string, target: string): Promise<void> {
  const ref = parseReference(target);
  if (ref.digest !== undefined) throw new InvalidReferenceError(target, 'a tag cannot include a digest; use NAME[:TAG]');
  const image = await resolveImage(store, source);
  await store.images.put({ name: formatReference(ref), target: image.record.target, created: new Date().toISOString() });
}

/**
 * Removes the name `input`, or every name of the image a digest or image ID stands for (more than
 * one only with `force`), and returns the names removed. Only names go: `prune` frees the blobs.
 */
export async function removeImage(store: Store, input: string, force = false): Promise<string[]> {
  let name: string | undefined;
  try {
    name = formatReference(parseReference(input));
  } catch (err) {
    // Not a name: perhaps an image ID, which resolveImage understands.
    if (!(err instanceof InvalidReferenceError)) throw err;
  }
  if (name !== undefined && (await store.images.delete(name))) return [name];

  const image = await resolveImage(store, input);
  const names: string[] = [];
  for (const rec of await store.images.list()) {
    if (rec.target.digest === image.record.target.digest) {
      names.push(rec.name);
      continue;
    }
    const id = await readRecord(store, rec, hostPlatform()).then((r) => r.configDigest, () => undefined);
    if (id === image.configDigest) names.push(rec.name);
  }
  if (names.length > 1 && !force) throw new ImageConflictError(input, names.map(shortName));
  for (const n of names) await store.images.delete(n);
  return names;
}

/** A full name as docker shows it (`docker.io/library/busybox:latest` → `busybox:latest`). */
export function shortName(name: string): string {
  return familiarName(parseReference(name));
}
