// Images in and out of the store as files: a rootfs tar imported, OCI and docker archives loaded
// and saved, two images' file trees compared. The exporter does the work; this is its surface.
export { importRootfs, type ImportOptions, type ImportResult } from '../exporter/image-import.js';
export { loadArchive, type LoadedImage, type LoadOptions } from '../exporter/image-load.js';
export { saveImages } from '../exporter/image-save.js';
export { diffImages, formatChanges } from '../exporter/image-diff.js';
