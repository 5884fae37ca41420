// Layers recompressed for an output that asked for another compression: diffID + compression +
// level → the blob, in <root>/cache/compressed.json, so converting the same image again (a second
// push) compresses nothing. A record whose blob GC took is dropped by prune, like layers.json's.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Descriptor } from '../oci/image-spec.js';
import { readRecordFile, updateRecordFile, type RecordKind } from '../snapshotter/record-file.js';

/** The blob of a converted layer; mediaType is the OCI one (an output may show Docker's). */
export type CompressedLayer = Pick<Descriptor, 'digest' | 'size' | 'mediaType'>;

interface CompressedFile {
  layers: Record<string, CompressedLayer>;
}

const compressedFile: RecordKind<CompressedFile> = {
  empty: () => ({ layers: {} }),
  invalid: (data) => {
    const layers = (data as Partial<CompressedFile> | null)?.layers;
    return typeof layers === 'object' && layers !== null ? undefined : 'no "layers" object';
  },
};

export class CompressedLayers {
  private constructor(
    private readonly root: string,
    private readonly file: string,
    private readonly data: CompressedFile,
  ) {}

  static async open(root: string): Promise<CompressedLayers> {
    const file = path.join(root, 'cache', 'compressed.json');
    await mkdir(path.dirname(file), { recursive: true });
    return new CompressedLayers(root, file, await readRecordFile(file, compressedFile));
  }

  get(diffId: string, compression: string, level: number): CompressedLayer | undefined {
    return this.data.layers[key(diffId, compression, level)];
  }

  async put(diffId: string, compression: string, level: number, layer: CompressedLayer): Promise<void> {
    const k = key(diffId, compression, level);
    this.data.layers[k] = layer;
    await updateRecordFile(this.root, this.file, compressedFile, (data) => {
      data.layers[k] = layer;
    });
  }

  /** Drops the records whose blob is one of `blobs` (about to be deleted). */
  async forgetBlobs(blobs: ReadonlySet<string>): Promise<void> {
    const gone = Object.keys(this.data.layers).filter((k) => blobs.has(this.data.layers[k]!.digest));
    if (gone.length === 0) return;
    await updateRecordFile(this.root, this.file, compressedFile, (data) => {
      for (const k of gone) delete data.layers[k];
    });
    for (const k of gone) delete this.data.layers[k];
  }
}

function key(diffId: string, compression: string, level: number): string {
  return `${diffId} ${compression} ${level}`;
}
