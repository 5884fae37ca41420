// The errors a user can cause while importing, loading, saving or diffing images: a bad archive,
// a corrupted blob, a malformed `--change`. Each has a stable `code` and prints as one line.
import { UserError } from '../errors/kiln-error.js';

/** The archive is not a tar kiln can read, or its metadata (index.json, manifest.json) is malformed. */
export class ArchiveFormatError extends UserError {
  readonly code = 'KILN_ARCHIVE_FORMAT';
  constructor(readonly source: string, detail: string) {
    super(`${source}: ${detail}`);
    this.name = 'ArchiveFormatError';
  }
}

/** A blob inside an archive does not hash to the digest it is named or referenced by. */
export class ArchiveDigestError extends UserError {
  readonly code = 'KILN_ARCHIVE_DIGEST';
  constructor(readonly source: string, readonly digest: string, problem: string, what = 'blob') {
    super(`${source}: ${what} ${digest} is corrupt (${problem}); nothing was loaded — re-create or re-download the archive`);
    this.name = 'ArchiveDigestError';
  }
}

/** An archive refers to a blob it does not contain. */
export class ArchiveMissingBlobError extends UserError {
  readonly code = 'KILN_ARCHIVE_BLOB_MISSING';
  constructor(readonly source: string, readonly digest: string, referrer: string) {
    super(`${source}: ${referrer} refers to ${digest}, which the archive does not contain; nothing was loaded`);
    this.name = 'ArchiveMissingBlobError';
  }
}

/** The rootfs given to `kiln import` is not a (gzip-compressed) tar archive. */
export class ImportSourceError extends UserError {
  readonly code = 'KILN_IMPORT_SOURCE';
  constructor(readonly source: string, detail: string) {
    super(`${source}: ${detail}`);
    this.name = 'ImportSourceError';
  }
}

