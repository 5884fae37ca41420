// Image records: a fully-qualified name (docker.io/library/busybox:latest) → the descriptor of its
// manifest or index, all in <root>/images.json, changed under its lock.
import path from 'node:path';
import type { Descriptor } from '../oci/image-spec.js';
import { readRecordFile, updateRecordFile, type RecordKind } from './record-file.js';
import { checkDigest } from '../oci/digest.js';

export interface ImageRecord {
  name: string;
  target: Descriptor;
  /** RFC 3339 time the name was (last) pointed at its target. */
  created: string;
  /** Set by `kiln store verify --repair` when blobs the image needs are missing or corrupt: what it lacks. */
  damaged?: string;
}

interface ImagesFile {
  images: Record<string, { target: Descriptor; created: string; damaged?: string }>;
}

const imagesFile: RecordKind<ImagesFile> = {
  empty: () => ({ images: {} }),
  invalid: (data) => {
    const images = (data as Partial<ImagesFile> | null)?.images;
    return typeof images === 'object' && images !== null ? undefined : 'no "images" object';
  },
};

export class ImageStore {
  private readonly file: string;

  constructor(readonly root: string) {
    this.file = path.join(root, 'images.json');
  }

  /** Every record, sorted by name. */
  async list(): Promise<ImageRecord[]> {
    const data = await this.load();
    return Object.keys(data.images)
      .sort()
      .map((name) => ({ name, ...data.images[name]! }));
  }

  async get(name: string): Promise<ImageRecord | undefined> {
    const { images } = await this.load();
    return Object.hasOwn(images, name) ? { name, ...images[name]! } : undefined;
  }

  /**
   * Creates or repoints a name. A name already on that target is left as it is, its `created`
   * time included, with no write: a rebuild that made the same image changes nothing.
   */
  async put(rec: ImageRecord): Promise<void> {
    checkDigest(rec.target.digest);
    // Compared as written: a descriptor equal but for key order only costs the write.
    const current = await this.get(rec.name);
    if (current !== undefined && !current.damaged && JSON.stringify(current.target) === JSON.stringify(rec.target)) return;
    await updateRecordFile(this.root, this.file, imagesFile, (data) => {
      data.images[rec.name] = { target: rec.target, created: rec.created };
    });
  }

  /** Marks a name's image as damaged (it stays; a put of a new target clears the mark). */
  async markDamaged(name: string, reason: string): Promise<void> {
    await updateRecordFile(this.root, this.file, imagesFile, (data) => {
      const rec = data.images[name];
      if (rec) rec.damaged = reason;
    });
  }

  /** Removes a name; false when there was none. The blobs stay until the next garbage collection. */
  async delete(name: string): Promise<boolean> {
    return updateRecordFile(this.root, this.file, imagesFile, (data) => {
      if (!Object.hasOwn(data.images, name)) return false;
      delete data.images[name];
      return true;
    });
  }

  private load(): Promise<ImagesFile> {
    return readRecordFile(this.file, imagesFile);
  }
}
