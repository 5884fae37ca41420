// Images in and out of the store as files: a rootfs tar imported, OCI and docker archives loaded
// and saved, two images' file trees compared. The exporter does the work; this is its surface.
import type { Store } from '../snapshotter/store.js';
import { importRootfs as importInto, type ImportOptions as ExporterImportOptions, type ImportResult } from '../exporter/image-import.js';
import { applyChanges } from '../frontend/import-changes.js';

export type { ImportResult };
export { loadArchive, type LoadedImage, type LoadOptions } from '../exporter/image-load.js';
export { saveImages } from '../exporter/image-save.js';
export { diffImages, formatChanges } from '../exporter/image-diff.js';

export interface ImportOptions extends Omit<ExporterImportOptions, 'config'> {
  /** Dockerfile lines (ENV, CMD, ENTRYPOINT, WORKDIR, USER, EXPOSE, LABEL, VOLUME, STOPSIGNAL) for the config, as `docker import -c`. */
  changes?: readonly string[];
}

/** A rootfs tar as a one-layer image; a bad `--change` is reported before any work is done. */
export function importRootfs(store: Store, opts: ImportOptions): Promise<ImportResult> {
  const { changes, ...rest } = opts;
  return importInto(store, { ...rest, config: applyChanges({}, changes ?? []) });
}
