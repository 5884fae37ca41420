// Unpacking an image into committed snapshots, one per layer, keyed by the layer's OCI chainID so
// every image sharing a base shares its snapshots (used by builds and by `kiln run`).
import { randomBytes } from 'node:crypto';
import { chainIds } from './gc.js';
import { native } from '../native/binding.js';
import { hasCode, LAYER_ENTRY } from '../native/native-error.js';
import { SnapshotExistsError } from './errors.js';
import { asDiskFull, isNoSpace } from './disk-full.js';
import type { ResolvedImage } from './image-read.js';
import type { Snapshotter } from './snapshots.js';
import type { Store } from './store.js';
import { UserError } from '../errors/kiln-error.js';

/** Label on a layer's snapshot: the blob it came from, so an exporter can reuse it instead of re-diffing. */
export const LAYER_LABEL = 'kiln.layer';

export interface LayerLabel {
  digest: string;
  diffId: string;
  size: number;
  mediaType: string;
}

export class LayerDiffIdMismatchError extends UserError {
  readonly code = 'KILN_LAYER_DIFFID_MISMATCH';
  constructor(image: string, layer: string, expected: string, actual: string) {
    super(
      `image ${image}: layer ${layer} unpacks to ${actual} but the image config says ${expected}; ` +
        `the image is corrupt: remove it ('kiln rmi') and load it again`,
    );
    this.name = 'LayerDiffIdMismatchError';
  }
}

/** A layer holds an entry kiln will not write (outside the root, through a symlink, a broken hard link). */
export class LayerRefusedError extends UserError {
  readonly code = 'KILN_LAYER_REFUSED';
  /** `entry "<path>": <why>`, the refusal without the layer that holds it. */
  readonly entry: string;
  constructor(image: string, detail: string) {
    super(`image ${image} cannot be unpacked: ${detail}; the image is unsafe or damaged: rebuild it, or get it again from its source`);
    this.name = 'LayerRefusedError';
    this.entry = detail.replace(/^layer \S+: /, '');
  }
}

/**
 * Makes sure a committed snapshot exists for every layer of `resolved` and returns the top one's
 * key (its chainID), or null for an image without layers.
 */
export async function unpackImage(store: Store, snapshotter: Snapshotter, resolved: ResolvedImage): Promise<string | null> {
  const layers = resolved.manifest.layers;
  const diffIds = resolved.config.rootfs?.diff_ids ?? [];
  if (diffIds.length !== layers.length) {
    throw new LayerDiffIdMismatchError(resolved.name, resolved.manifestDigest, `${diffIds.length} diff_ids`, `${layers.length} layers`);
  }
  const chain = chainIds(diffIds);
  let parent: string | undefined;
  for (let i = 0; i < layers.length; i++) {
    const key = chain[i]!;
    if ((await snapshotter.stat(key))?.kind !== 'committed') {
      await unpackLayer(store, snapshotter, resolved.name, layers[i]!, diffIds[i]!, key, parent);
    }
    parent = key;
  }
  return parent ?? null;
}

async function unpackLayer(
  store: Store,
  snapshotter: Snapshotter,
  image: string,
  layer: { digest: string; size: number; mediaType: string },
  diffId: string,
  key: string,
  parent: string | undefined,
): Promise<void> {
  const tmp = `unpack-${key.slice(7, 19)}-${randomBytes(6).toString('hex')}`;
  await snapshotter.prepare(tmp, parent);
  try {
    const applied = await native.applyLayer({
      layer: store.content.blobPath(layer.digest),
      target: snapshotter.upperDir(tmp),
      driver: snapshotter.driver,
      layerDigest: layer.digest,
    });
    if (applied.diffId !== diffId) throw new LayerDiffIdMismatchError(image, layer.digest, diffId, applied.diffId);
    const label: LayerLabel = { digest: layer.digest, diffId, size: layer.size, mediaType: layer.mediaType };
    await snapshotter.commit(key, tmp, { labels: { [LAYER_LABEL]: JSON.stringify(label) } });
  } catch (err) {
    await snapshotter.remove(tmp).catch(() => undefined);
    // Another build unpacked the same layer meanwhile: theirs is as good as ours.
    if (err instanceof SnapshotExistsError && err.key === key) return;
    if (isNoSpace(err)) throw asDiskFull(err, store.root, `unpacking image ${image}`);
    // The layer engine's message names the entry it refused (`layer sha256:…: entry "../x": …`).
    if (hasCode(err, LAYER_ENTRY)) throw new LayerRefusedError(image, err.message);
    throw err;
  }
}
