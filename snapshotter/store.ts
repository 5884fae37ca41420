// The store facade commands and other rooms open: one root holding blobs, image records and leases.
import { access, constants, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { ContentStore } from './content.js';
import { ImageStore } from './images.js';
import { Leases } from './leases.js';
import { ingestDir } from './ingest.js';
import { StoreAccessError } from './errors.js';

// mkdir/access failures that mean "this is not a usable place", as opposed to bugs.
const accessReasons: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'read-only filesystem',
  ENOTDIR: 'a path component is not a directory',
  EEXIST: 'a path component is not a directory',
};

export class Store {
  readonly content: ContentStore;
  readonly images: ImageStore;
  readonly leases: Leases;

  private constructor(readonly root: string) {
    this.content = new ContentStore(root);
    this.images = new ImageStore(root);
    this.leases = new Leases(root);
  }

  /** Opens the store at `root` (absolute), creating its directories on first use. */
  static async open(root: string): Promise<Store> {
    const abs = path.resolve(root);
    try {
      await mkdir(path.join(abs, 'blobs', 'sha256'), { recursive: true });
      await mkdir(ingestDir(abs), { recursive: true });
      await access(abs, constants.W_OK);
    } catch (err) {
      const reason = accessReasons[(err as NodeJS.ErrnoException).code ?? ''];
      if (reason !== undefined) throw new StoreAccessError(abs, reason);
      throw err;
    }
    return new Store(abs);
  }
}
