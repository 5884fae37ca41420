// Layers the exporter already made from build snapshots: snapshot key → layer blob, in
// <root>/cache/layers.json, so a rebuild that ends on cached snapshots does not diff them again.
// (Unpacked image layers carry the same facts in their `kiln.layer` label; committed snapshots'
// labels cannot change afterwards, hence this record for the ones a build commits.)
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { readRecordFile, updateRecordFile, type RecordKind } from '../snapshotter/record-file.js';
import type { LayerLabel } from '../snapshotter/unpack.js';

interface LayerRecord {
  created: string;
  sourceDateEpoch?: number;
  layer: LayerLabel;
}

interface LayersFile {
  /**
   * `created` tells a snapshot apart from a later one that reused its key; a layer clamped to a
   * SOURCE_DATE_EPOCH is only the layer a build with the same epoch wants.
   */
  layers: Record<string, LayerRecord>;
}

const layersFile: RecordKind<LayersFile> = {
  empty: () => ({ layers: {} }),
  invalid: (data) => {
    const layers = (data as Partial<LayersFile> | null)?.layers;
    return typeof layers === 'object' && layers !== null ? undefined : 'no "layers" object';
  },
};

export class LayerIndex {
  private constructor(
    private readonly root: string,
    private readonly file: string,
    private readonly data: LayersFile,
  ) {}

  static async open(root: string): Promise<LayerIndex> {
    const file = path.join(root, 'cache', 'layers.json');
    await mkdir(path.dirname(file), { recursive: true });
    return new LayerIndex(root, file, await readRecordFile(file, layersFile));
  }

  get(snapshot: string, created: string, sourceDateEpoch: number | undefined): LayerLabel | undefined {
    const rec = this.data.layers[snapshot];
    return rec?.created === created && rec.sourceDateEpoch === sourceDateEpoch ? rec.layer : undefined;
  }

  /** The snapshots whose recorded layer blob is not in the store (`has` says what is). */
  async missingBlobs(has: (digest: string) => Promise<boolean>): Promise<string[]> {
    const missing: string[] = [];
    for (const [snapshot, rec] of Object.entries(this.data.layers)) if (!(await has(rec.layer.digest))) missing.push(snapshot);
    return missing;
  }

  /** Drops the records whose layer is one of `blobs` (about to be deleted). */
  async forgetBlobs(blobs: ReadonlySet<string>): Promise<void> {
    const snapshots = Object.keys(this.data.layers).filter((s) => blobs.has(this.data.layers[s]!.layer.digest));
    if (snapshots.length > 0) await this.forget(snapshots);
  }

  /** Drops the records of these snapshots (a rebuild diffs them again). */
  async forget(snapshots: readonly string[]): Promise<void> {
    await updateRecordFile(this.root, this.file, layersFile, (data) => {
      for (const s of snapshots) delete data.layers[s];
    });
    for (const s of snapshots) delete this.data.layers[s];
  }

  async put(snapshot: string, created: string, sourceDateEpoch: number | undefined, layer: LayerLabel): Promise<void> {
    const rec: LayerRecord = sourceDateEpoch === undefined ? { created, layer } : { created, sourceDateEpoch, layer };
    this.data.layers[snapshot] = rec;
    await updateRecordFile(this.root, this.file, layersFile, (data) => {
      data.layers[snapshot] = rec;
    });
  }
}
