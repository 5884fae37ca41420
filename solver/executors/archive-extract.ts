// ADD's Docker compatibility: a local tar archive (plain, gzip, bzip2, xz or zstd, told apart by
// magic bytes) is extracted into the destination instead of copied, by the native layer engine
// in archive mode, never writing outside the destination.
import path from 'node:path';
import { native } from '../../native/binding.js';
import type { Compression } from '../../native/archive-sniff.js';
import { hasCode, LAYER_ENTRY, NATIVE_FAILURE } from '../../native/native-error.js';
import { ArchiveEscapeError } from './errors.js';
import { asCopyFailure } from './copy-failure.js';
import type { Owner } from './file-owner.js';

/** The archive's compression when `file` is a tar (possibly compressed); undefined for anything else. */
export async function archiveCompression(file: string): Promise<Compression | undefined> {
  return (await native.archiveCompression(file)) ?? undefined;
}

export interface ExtractOptions {
  step: string;
  /** Host path of the destination directory, already resolved inside the container's root. */
  dest: string;
  owner?: Owner;
  /** Seconds since the epoch, replacing each entry's own mtime. */
  mtime?: number;
}

/**
 * Extracts `file` into `opts.dest` as BuildKit's untar does, with the destination as its root:
 * `../x` lands as `x`, symlinks resolve inside it, and an entry written through a symlink to
 * nothing there is refused.
 */
export async function extractArchive(file: string, opts: ExtractOptions): Promise<void> {
  try {
    await native.extractArchive({ archive: file, target: opts.dest, owner: opts.owner, mtime: opts.mtime, name: path.basename(file) });
  } catch (err) {
    if (hasCode(err, LAYER_ENTRY)) throw new ArchiveEscapeError(opts.step, path.basename(file), err.entry ?? '');
    // A broken archive (truncated, a bad header: the engine names no errno for it) and a hard
    // link to an entry the archive lacks (ENOENT) are the user's file; anything else is not.
    throw asCopyFailure(opts.step, err, (e, errno) => errno === 'ENOENT' || hasCode(e, NATIVE_FAILURE));
  }
}
