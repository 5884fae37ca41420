// `kiln save`: writes named images from the store as an OCI layout tar (with docker's manifest.json
// beside it, as docker ≥ 25 does) or as a classic `docker save` tar.
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { familiarName, parseReference } from '../oci/reference.js';
import { resolveImage } from '../snapshotter/image-read.js';
import { MediaType, type Descriptor, type Index, type Manifest, type Platform } from '../oci/image-spec.js';
import type { Store } from '../snapshotter/store.js';
import { writeDockerArchive } from './docker-archive.js';
import { isIndexMediaType } from './manifest.js';
import { writeOciLayout } from './oci-layout.js';
import type { BlobPath, SavedImage } from './saved-image.js';
import { TarWriter } from './tar-pack.js';

export type SaveFormat = 'oci' | 'docker';

const imageId = /^(sha256:)?[0-9a-f]{6,64}$/;

/** The name parts the archive formats need; a digest-only name has no tag and no RepoTags entry. */
export function namedParts(name: string): Pick<SavedImage, 'name' | 'tag' | 'repoTag'> {
  const ref = parseReference(name);
  if (ref.tag === undefined) return { name };
  return { name, tag: ref.tag, repoTag: familiarName({ domain: ref.domain, path: ref.path, tag: ref.tag }) };
}

/** Every blob under an index whose manifests are all present, or undefined when one is missing. */
async function indexBlobs(store: Store, target: Descriptor): Promise<Descriptor[] | undefined> {
  const blobs: Descriptor[] = [target];
  const index = await store.content.readJSON<Index>(target.digest);
  for (const child of index.manifests) {
    if (!(await store.content.has(child.digest))) return undefined;
    if (isIndexMediaType(child.mediaType)) {
      const nested = await indexBlobs(store, child);
      if (!nested) return undefined;
      blobs.push(...nested);
      continue;
    }
    blobs.push(child);
    const manifest = await store.content.readJSON<Manifest>(child.digest);
    for (const d of [manifest.config, ...manifest.layers]) {
      if (!(await store.content.has(d.digest))) return undefined;
      blobs.push(d);
    }
  }
  return blobs;
}

/** With a `platform`, only that platform's image is saved (docker save --platform). */
async function savedImage(store: Store, ref: string, platform: Platform | undefined): Promise<SavedImage> {
  const resolved = await resolveImage(store, ref, platform);
  const info = await store.content.info(resolved.manifestDigest);
  const manifestDescriptor: Descriptor = {
    mediaType: resolved.manifest.mediaType ?? MediaType.ociManifest,
    digest: resolved.manifestDigest,
    size: info?.size ?? 0,
  };
  const own = [manifestDescriptor, resolved.manifest.config, ...resolved.manifest.layers];
  let target = manifestDescriptor;
  let blobs = own;
  // A multi-platform image is saved whole when all its platforms are here; otherwise as the one
  // that is, since an index pointing at missing blobs is an invalid layout for skopeo and umoci.
  if (platform === undefined && isIndexMediaType(resolved.record.target.mediaType)) {
    const all = await indexBlobs(store, resolved.record.target);
    if (all) {
      target = resolved.record.target;
      blobs = all;
    }
  }
  const named = imageId.test(ref) ? undefined : namedParts(resolved.record.name);
  return {
    ...(named ?? {}),
    target: { mediaType: target.mediaType, digest: target.digest, size: target.size },
    manifest: resolved.manifest,
    manifestDigest: resolved.manifestDigest,
    config: resolved.config,
    blobs,
  };
}

/**
 * Writes the archive to `output` ('-' = `stdout`); a file is written beside its final path and
 * renamed at the end, so a failed save leaves no half archive.
 */
export async function saveImages(
  store: Store,
  refs: readonly string[],
  output: string,
  format: SaveFormat,
  stdout?: NodeJS.WritableStream,
  platform?: Platform,
): Promise<SavedImage[]> {
  const images: SavedImage[] = [];
  for (const ref of refs) images.push(await savedImage(store, ref, platform));
  await writeImageArchive(images, (digest) => store.content.blobPath(digest), output, format, stdout);
  return images;
}

/** Writes images whose blobs are at `blobPath` as one archive, as saveImages does. */
export async function writeImageArchive(
  images: readonly SavedImage[],
  blobPath: BlobPath,
  output: string,
  format: SaveFormat,
  stdout?: NodeJS.WritableStream,
): Promise<void> {
  const toStdout = output === '-';
  if (toStdout && !stdout) throw new Error("writeImageArchive: output '-' needs a stdout stream");
  const temp = toStdout ? '' : path.join(path.dirname(output), `.${path.basename(output)}.${randomBytes(6).toString('hex')}`);
  const out = toStdout ? stdout! : createWriteStream(temp, { flags: 'wx' });
  const tar = new TarWriter(out);
  try {
    if (format === 'oci') await writeOciLayout(tar, images, blobPath, { dockerManifest: true });
    else await writeDockerArchive(tar, images, blobPath);
    await tar.finish();
    if (!toStdout) await rename(temp, output);
  } catch (err) {
    if (!toStdout) await rm(temp, { force: true });
    throw err;
  }
}
