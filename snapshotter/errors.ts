// Errors of the snapshotter room that a user or their environment can cause: each has a stable
// `code` and is a UserError, so the CLI prints its message as one line.
import { UserError } from '../errors/kiln-error.js';

export class BlobNotFoundError extends UserError {
  readonly code = 'KILN_BLOB_NOT_FOUND';
  constructor(readonly digest: string, readonly root: string) {
    super(`blob ${digest} is missing from the store at ${root}: pull, load or build the image again to restore it`);
    this.name = 'BlobNotFoundError';
  }
}

/** Content whose digest or size is not what its writer promised; nothing was stored. */
export class DigestMismatchError extends UserError {
  readonly code = 'KILN_DIGEST_MISMATCH';
  constructor(readonly expected: string, readonly actual: string, detail = '') {
    super(`content does not match ${expected}: got ${actual}${detail}`, { hint: `the source is corrupt or truncated, fetch it again` });
    this.name = 'DigestMismatchError';
  }
}

/**
 * No image by that name or ID in the store. For a build's base image `baseReason` says why it is
 * missing (a pull that failed, for instance).
 */
export class ImageNotFoundError extends UserError {
  readonly code = 'KILN_IMAGE_NOT_FOUND';
  constructor(readonly ref: string, readonly root: string, baseReason?: string) {
    super(
      baseReason === undefined
        ? `image "${ref}" not found in the store at ${root}: pull, load or build it first ('kiln images' lists what is there)`
        : `base image "${ref}" is not in the store at ${root} (${baseReason})`,
      baseReason === undefined ? {} : { hint: `pull it with 'kiln pull ${ref}', or add it with 'kiln import ROOTFS.tar ${ref}' or 'kiln load -i IMAGE.tar'` },
    );
    this.name = 'ImageNotFoundError';
  }
}

/** A short image ID that several different images start with. */
export class AmbiguousImageError extends UserError {
  readonly code = 'KILN_IMAGE_AMBIGUOUS';
  constructor(readonly ref: string, readonly ids: string[]) {
    super(`image ID "${ref}" is ambiguous: it matches ${ids.length} images (${ids.join(', ')})`, { hint: `give more digits` });
    this.name = 'AmbiguousImageError';
  }
}

/** Removing by image ID when several names point at the image, without -f. */
export class ImageConflictError extends UserError {
  readonly code = 'KILN_IMAGE_CONFLICT';
  constructor(readonly ref: string, readonly names: string[]) {
    super(`unable to remove image "${ref}": it is tagged as ${names.join(', ')}`, { hint: `remove those names, or use -f to untag all` });
    this.name = 'ImageConflictError';
  }
}

/** An image index with no manifest for the platform asked for. */
export class PlatformNotFoundError extends UserError {
  readonly code = 'KILN_PLATFORM_NOT_FOUND';
  constructor(readonly ref: string, readonly wanted: string, readonly available: string[]) {
    super(
      `image "${ref}" has no manifest for platform ${wanted} (it has: ${available.join(', ') || 'none'}); pass --platform with one of those`,
    );
    this.name = 'PlatformNotFoundError';
  }
}

export class LockTimeoutError extends UserError {
  readonly code = 'KILN_LOCK_TIMEOUT';
  constructor(readonly file: string, readonly pid: string, timeoutMs: number) {
    super(
      `timed out after ${Math.round(timeoutMs / 1000)}s waiting for the lock ${file}, held by ${pid ? `pid ${pid}` : 'another process'}`,
      { hint: 'wait for that kiln command to finish, or stop it' },
    );
    this.name = 'LockTimeoutError';
  }
}

export class LeaseNotFoundError extends UserError {
  readonly code = 'KILN_LEASE_NOT_FOUND';
  constructor(readonly id: string, readonly root: string) {
    super(`lease "${id}" does not exist in the store at ${root} (it was deleted or never created)`);
    this.name = 'LeaseNotFoundError';
  }
}

/** The store directory cannot be created or written (typically /var/lib/kiln as a non-root user). */
export class StoreAccessError extends UserError {
  readonly code = 'KILN_STORE_ACCESS';
  constructor(readonly root: string, reason: string) {
    super(`cannot use the store at ${root}: ${reason}`, { hint: `pass --root DIR or set KILN_ROOT to a writable directory` });
    this.name = 'StoreAccessError';
  }
}

/** A record file (images.json, leases.json) that is not the JSON kiln writes. */
export class CorruptRecordError extends UserError {
  readonly code = 'KILN_STORE_CORRUPT';
  constructor(readonly file: string, reason: string) {
    super(`${file} is corrupt (${reason})`, { hint: `restore it from a backup or delete it (its records are lost)` });
    this.name = 'CorruptRecordError';
  }
}

export class SnapshotNotFoundError extends UserError {
  readonly code = 'KILN_SNAPSHOT_NOT_FOUND';
  constructor(readonly key: string, readonly root: string) {
    super(`snapshot "${key}" does not exist in the store at ${root} (it was removed or never created)`);
    this.name = 'SnapshotNotFoundError';
  }
}

export class SnapshotExistsError extends UserError {
  readonly code = 'KILN_SNAPSHOT_EXISTS';
  constructor(readonly key: string, readonly root: string) {
    super(`snapshot "${key}" already exists in the store at ${root}: pick another key or remove it first`);
    this.name = 'SnapshotExistsError';
  }
}

/** An operation on a snapshot of the wrong kind (committing a view, stacking on an active one…). */
export class SnapshotKindError extends UserError {
  readonly code = 'KILN_SNAPSHOT_KIND';
  constructor(readonly key: string, readonly kind: string, what: string) {
    super(`snapshot "${key}" is ${kind}: ${what}`);
    this.name = 'SnapshotKindError';
  }
}

export class SnapshotHasChildrenError extends UserError {
  readonly code = 'KILN_SNAPSHOT_HAS_CHILDREN';
  constructor(readonly key: string, readonly children: string[]) {
    super(`snapshot "${key}" cannot be removed: ${children.length} snapshot(s) build on it (${children.join(', ')})`, { hint: `remove them first` });
    this.name = 'SnapshotHasChildrenError';
  }
}

/** A snapshot still mounted by this process, which commit and remove must not pull from under it. */
export class SnapshotBusyError extends UserError {
  readonly code = 'KILN_SNAPSHOT_BUSY';
  constructor(readonly key: string, readonly targets: string[]) {
    super(`snapshot "${key}" is mounted at ${targets.join(', ')}: release those mounts first`);
    this.name = 'SnapshotBusyError';
  }
}

/** A store whose snapshots were made by one driver, opened with the other. */
export class SnapshotDriverMismatchError extends UserError {
  readonly code = 'KILN_SNAPSHOT_DRIVER_MISMATCH';
  constructor(readonly root: string, readonly recorded: string, readonly requested: string) {
    super(
      `the snapshots in ${root} were made by the ${recorded} driver and cannot be used by the ${requested} driver: ` +
        `use --snapshotter ${recorded}, or another --root`,
    );
    this.name = 'SnapshotDriverMismatchError';
  }
}

export class OverlayUnavailableError extends UserError {
  readonly code = 'KILN_OVERLAY_UNAVAILABLE';
  constructor(readonly dir: string, reason: string) {
    super(`overlay mounts do not work under ${dir} (${reason}): run as root on a kernel with overlayfs, or use --snapshotter copy`);
    this.name = 'OverlayUnavailableError';
  }
}

export class DiskFullError extends UserError {
  readonly code = 'KILN_DISK_FULL';
  constructor(readonly root: string, device: { mountPoint: string; fsType: string }, what: string, cause?: unknown) {
    super(
      `no space left on the device holding the store ${root} (${device.fsType} at ${device.mountPoint}) while ${what}`,
      { hint: `free space there ('kiln prune' removes the build cache and unused blobs) and try again`, cause },
    );
    this.name = 'DiskFullError';
  }
}
