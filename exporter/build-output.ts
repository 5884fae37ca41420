// What `kiln build` writes from its image besides the store: OCI and docker archives, the root
// filesystem as a directory or as one tar, and the metadata file buildx writes.
import { createReadStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { native } from '../native/binding.js';
import { ingestPath } from '../snapshotter/ingest.js';
import path from 'node:path';
import { MediaType, type Descriptor, type ImageConfig, type Manifest, type Platform } from '../oci/image-spec.js';
import { formatPlatform, hostPlatform, platformMatches } from '../oci/platform.js';
import type { Store } from '../snapshotter/store.js';
import { namedParts, writeImageArchive } from './image-save.js';
import type { SavedImage } from './saved-image.js';

export type LayerCompression = 'gzip' | 'zstd' | 'uncompressed';

/** An output's compression=, compression-level=, force-compression=, oci-mediatypes= (see layer-compression.ts). */
export interface CompressionSpec {
  compression: LayerCompression;
  /** gzip 0-9, zstd 1-22; absent: the codec's default (6, 3). */
  level?: number;
  /** Recompress the base image's layers too, when they are in another compression. */
  force: boolean;
  /** false: Docker schema2 media types (BuildKit writes `…rootfs.diff.tar.zstd` for zstd then). */
  ociMediaTypes: boolean;
}

/**
 * Image names are full references (`docker.io/library/app:latest`) once resolved against -t.
 * `compression`: given when the output named any of its keys; without it the image is as built.
 */
export type OutputSpec =
  /**
   * `push`: the names are pushed to their registries too (push=true, or type=registry).
   * `pushByDigest` (push-by-digest=true): the names are repositories (no tag) the manifest is
   * pushed to by digest alone, and the store records none of them.
   */
  | { type: 'image'; names: string[]; push?: true; pushByDigest?: true; compression?: CompressionSpec }
  | { type: 'oci' | 'docker'; dest: string; names: string[]; compression?: CompressionSpec }
  | { type: 'local'; dest: string }
  | { type: 'tar'; dest: string }
  | { type: 'cacheonly' };

/** The image a build made, its blobs in the store (held by the caller's lease while outputs are written). */
export interface BuiltImage {
  manifestDigest: string;
  manifestSize: number;
  configDigest: string;
  manifest: Manifest;
  config: ImageConfig;
  /** How many of the top layers the build made (the rest are its base image's). */
  newLayers: number;
}

/** What a build made: one image, or one per platform under an index. */
export interface BuiltResult {
  /** The images, with the platform each was built for; more than one only under `index`. */
  images: readonly (BuiltImage & { platform: Platform })[];
  index?: Descriptor;
}

export interface BuildOutputOptions {
  /** Where `dest=-` goes. */
  stdout: NodeJS.WritableStream;
  /** Clamps file times in a rootfs tar, as in the image's layers. */
  sourceDateEpoch?: number;
  emit?: (e: { type: 'export.start' | 'export.done'; what: string; time: number }) => void;
}

/** Writes every output that is not the store image itself (image and cacheonly outputs need nothing here). */
export async function writeBuildOutputs(store: Store, built: BuiltResult, outputs: readonly OutputSpec[], opts: BuildOutputOptions): Promise<void> {
  const emit = opts.emit ?? (() => undefined);
  for (const out of outputs) {
    if (out.type === 'image' || out.type === 'cacheonly') continue;
    const what = `exporting ${out.type === 'local' ? 'rootfs' : out.type} to ${out.dest === '-' ? 'stdout' : out.dest}`;
    emit({ type: 'export.start', what, time: Date.now() });
    if (out.type === 'oci' || out.type === 'docker') {
      await writeImageArchive(savedImages(built, out.names), (d) => store.content.blobPath(d), out.dest, out.type, opts.stdout);
    } else if (out.type === 'local') {
      await mkdir(out.dest, { recursive: true });
      await applyRootfs(store, built, out.dest);
    } else {
      await writeRootfsTar(store, built, out.dest, opts);
    }
    emit({ type: 'export.done', what, time: Date.now() });
  }
}

/**
 * One archive entry per name (so each gets its RepoTags/annotation), or one unnamed. An index is
 * the entry (the layout BuildKit writes); docker's manifest.json beside it lists the host's image.
 */
function savedImages(built: BuiltResult, names: readonly string[]): SavedImage[] {
  const manifestOf = (image: BuiltImage): Descriptor => ({ mediaType: image.manifest.mediaType ?? MediaType.ociManifest, digest: image.manifestDigest, size: image.manifestSize });
  const own = (image: BuiltImage): Descriptor[] => [manifestOf(image), image.manifest.config, ...image.manifest.layers];
  const shown = built.images.find((img) => platformMatches(hostPlatform(), img.platform)) ?? built.images[0]!;
  const base: SavedImage = {
    target: built.index ?? manifestOf(shown),
    manifest: shown.manifest,
    manifestDigest: shown.manifestDigest,
    config: shown.config,
    blobs: built.index ? [built.index, ...built.images.flatMap(own)] : own(shown),
  };
  return names.length === 0 ? [base] : names.map((name) => ({ ...base, ...namedParts(name) }));
}

/**
 * The root filesystem in `dir`; with several platforms one folder each, named as BuildKit's
 * local and tar exporters name them (`linux_amd64`, `linux_arm_v7`).
 */
async function applyRootfs(store: Store, built: BuiltResult, dir: string): Promise<void> {
  if (built.index === undefined) return applyLayers(store, built.images[0]!.manifest, dir);
  for (const img of built.images) {
    const sub = path.join(dir, formatPlatform(img.platform).replaceAll('/', '_'));
    await mkdir(sub, { recursive: true });
    await applyLayers(store, img.manifest, sub);
  }
}

/** The image's root filesystem in `dir`: its layers applied in order, deletions carried out. */
async function applyLayers(store: Store, manifest: Manifest, dir: string): Promise<void> {
  for (const layer of manifest.layers) {
    await native.applyLayer({ layer: store.content.blobPath(layer.digest), target: dir, driver: 'copy', layerDigest: layer.digest });
  }
}

/**
 * The root filesystem as one plain tar: the layers are applied into a scratch dir in the store's
 * ingest area (so a killed build's leftovers are swept by prune) and that tree is written whole by
 * the layer engine, which keeps owners, modes, links and xattrs and orders entries the same way every time.
 */
async function writeRootfsTar(store: Store, built: BuiltResult, dest: string, opts: BuildOutputOptions): Promise<void> {
  const tree = ingestPath(store.root);
  const staged = dest === '-' ? ingestPath(store.root) : undefined;
  try {
    await mkdir(tree, { mode: 0o755 });
    await applyRootfs(store, built, tree);
    await native.diffLayer({
      upper: tree,
      driver: 'copy',
      // A file dest is written beside itself and renamed into place by the layer engine.
      output: staged ?? dest,
      compression: 'none',
      ...(opts.sourceDateEpoch !== undefined ? { sourceDateEpoch: opts.sourceDateEpoch } : {}),
    });
    if (staged !== undefined) await pipeline(createReadStream(staged), opts.stdout, { end: false });
  } finally {
    await rm(tree, { recursive: true, force: true });
    if (staged !== undefined) await rm(staged, { force: true });
  }
}
