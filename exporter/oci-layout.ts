// The OCI image layout as a tar (`oci-layout`, `index.json`, `blobs/sha256/…`): writing it for
// `kiln save` (with docker's manifest.json beside it, as docker ≥ 25 does, so `docker load` reads
// it too) and reading it for `kiln load`.
import { MediaType, type Descriptor, type Index, type Manifest } from '../oci/image-spec.js';
import { verifyBlobFiles, type StagedArchive, type StagedFile } from './archive-stage.js';
import { ArchiveDigestError, ArchiveFormatError, ArchiveMissingBlobError } from './errors.js';
import type { LoadPlan, PlannedImage } from './load-plan.js';
import { isIndexMediaType, isManifestMediaType } from './manifest.js';
import type { BlobPath, SavedImage } from './saved-image.js';
import type { TarWriter } from './tar-pack.js';

export const refNameAnnotation = 'org.opencontainers.image.ref.name';
export const containerdNameAnnotation = 'io.containerd.image.name';

export function blobPathInLayout(digest: string): string {
  return `blobs/${digest.replace(':', '/')}`;
}

/** index.json: one entry per name, annotated as BuildKit and docker do. */
export function layoutIndex(images: readonly SavedImage[]): Index {
  return {
    schemaVersion: 2,
    mediaType: MediaType.ociIndex,
    manifests: images.map((img) => {
      const d: Descriptor = { mediaType: img.target.mediaType, digest: img.target.digest, size: img.target.size };
      if (img.name) {
        d.annotations = { [containerdNameAnnotation]: img.name };
        if (img.tag) d.annotations[refNameAnnotation] = img.tag;
      }
      return d;
    }),
  };
}

export interface DockerManifestEntry {
  Config: string;
  RepoTags: string[] | null;
  Layers: string[];
}

/** manifest.json: one entry per distinct manifest, its names gathered in RepoTags. */
export function dockerManifestEntries(
  images: readonly SavedImage[],
  configPath: (img: SavedImage) => string,
  layerPaths: (img: SavedImage) => string[],
): DockerManifestEntry[] {
  const byManifest = new Map<string, DockerManifestEntry>();
  for (const img of images) {
    let entry = byManifest.get(img.manifestDigest);
    if (!entry) {
      entry = { Config: configPath(img), RepoTags: [], Layers: layerPaths(img) };
      byManifest.set(img.manifestDigest, entry);
    }
    if (img.repoTag && !entry.RepoTags!.includes(img.repoTag)) entry.RepoTags!.push(img.repoTag);
  }
  // docker writes null, not [], for an image saved by ID.
  return [...byManifest.values()].map((e) => ({ ...e, RepoTags: e.RepoTags!.length > 0 ? e.RepoTags : null }));
}

export async function writeOciLayout(
  tar: TarWriter,
  images: readonly SavedImage[],
  blobPath: BlobPath,
  opts: { dockerManifest: boolean },
): Promise<void> {
  await tar.buffer('oci-layout', JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await tar.dir('blobs');
  await tar.dir('blobs/sha256');
  for (const img of images) {
    for (const blob of img.blobs) {
      const name = blobPathInLayout(blob.digest);
      if (!tar.has(name)) await tar.file(name, blobPath(blob.digest), blob.size);
    }
  }
  await tar.buffer('index.json', JSON.stringify(layoutIndex(images)));
  if (opts.dockerManifest) {
    const entries = dockerManifestEntries(
      images,
      (img) => blobPathInLayout(img.manifest.config.digest),
      (img) => img.manifest.layers.map((l) => blobPathInLayout(l.digest)),
    );
    await tar.buffer('manifest.json', JSON.stringify(entries));
  }
}

/**
 * Reads an unpacked OCI layout: checks every blob against its name, walks index.json to every
 * reachable blob (a missing platform of an index is allowed, as containerd allows it) and names
 * each image from its annotations.
 */
export async function readOciLayout(staged: StagedArchive): Promise<LoadPlan> {
  verifyBlobFiles(staged);
  const index = await staged.readJSON<Index>('index.json');
  if (!Array.isArray(index.manifests)) throw new ArchiveFormatError(staged.source, 'index.json has no manifests list');
  const blobs = new Map<string, StagedFile>();

  const take = (d: Descriptor, referrer: string): StagedFile => {
    if (typeof d.digest !== 'string' || !d.digest.startsWith('sha256:')) {
      throw new ArchiveFormatError(staged.source, `${referrer} has a descriptor with unsupported digest ${String(d.digest)}`);
    }
    const file = staged.get(blobPathInLayout(d.digest));
    if (!file) throw new ArchiveMissingBlobError(staged.source, d.digest, referrer);
    if (file.size !== d.size) {
      throw new ArchiveDigestError(staged.source, d.digest, `it is ${file.size} bytes where ${referrer} says ${d.size}`);
    }
    blobs.set(d.digest, file);
    return file;
  };
  const readBlob = async <T>(d: Descriptor): Promise<T> => staged.readJSON<T>(blobPathInLayout(d.digest));

  const walk = async (d: Descriptor, referrer: string, optional: boolean): Promise<void> => {
    if (optional && !staged.get(blobPathInLayout(d.digest))) return;
    take(d, referrer);
    if (isIndexMediaType(d.mediaType)) {
      const child = await readBlob<Index>(d);
      for (const m of child.manifests ?? []) await walk(m, `index ${d.digest}`, true);
    } else if (isManifestMediaType(d.mediaType)) {
      const manifest = await readBlob<Manifest>(d);
      if (!manifest.config || !Array.isArray(manifest.layers)) {
        throw new ArchiveFormatError(staged.source, `manifest ${d.digest} has no config or layers`);
      }
      take(manifest.config, `manifest ${d.digest}`);
      for (const layer of manifest.layers) {
        // Foreign layers (with urls) are fetched at run time, never shipped in archives.
        if (layer.urls?.length && !staged.get(blobPathInLayout(layer.digest))) continue;
        take(layer, `manifest ${d.digest}`);
      }
    }
  };

  const images: PlannedImage[] = [];
  for (const d of index.manifests) {
    await walk(d, 'index.json', false);
    const names = imageNames(d);
    let id = d.digest;
    if (isManifestMediaType(d.mediaType)) id = (await readBlob<Manifest>(d)).config.digest;
    images.push({ names, target: { mediaType: d.mediaType, digest: d.digest, size: d.size }, id });
  }
  return { blobs, generated: new Map(), images };
}

/**
 * containerd's full name wins; a ref.name is a name only when it is a whole reference
 * (`busybox:1.36`, `example.com/app`) — a bare tag such as `latest` names no repository.
 */
function imageNames(d: Descriptor): string[] {
  const full = d.annotations?.[containerdNameAnnotation];
  if (full) return [full];
  const ref = d.annotations?.[refNameAnnotation];
  if (ref && /[/:@]/.test(ref)) return [ref];
  return [];
}
