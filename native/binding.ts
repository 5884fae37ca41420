// Loads the Rust addon (built by `npm run build:native` into native/) and gives it TypeScript types.
import { createRequire } from 'node:module';
import path from 'node:path';
import { PACKAGE_DIR } from './package-dir.js';
import type { Compression as ArchiveCompression } from './archive-sniff.js';

export interface FileDigest {
  /** `sha256:<hex>` */
  digest: string;
  size: number;
}

export interface OverlayMountOptions {
  /** Read-only layers, top-most first. */
  lowers: string[];
  /** Writable layer; absent = read-only mount (one lower alone is bind-mounted read-only). */
  upper?: string;
  /** Overlay's work dir, on the upper's filesystem. */
  work?: string;
  target: string;
}

export interface CloneStats {
  /** Every regular file's data was shared by FICLONE. */
  reflinked: boolean;
  /** Entries created below the root. */
  files: number;
}

export interface LayerInfo {
  /** `sha256:` of the uncompressed tar. */
  diffId: string;
  /** `sha256:` of the file written (compressed or not). */
  digest: string;
  size: number;
  uncompressedSize: number;
  /** application/vnd.oci.image.layer.v1.tar(+gzip|+zstd) */
  mediaType: string;
  entries: number;
}

export type Compression = 'gzip' | 'zstd' | 'none';
export type LayerDriver = 'overlay' | 'copy';

export interface DiffLayerOptions {
  /** overlay: an overlay upper dir; copy: the full new tree. */
  upper: string;
  /**
   * overlay: the parents' layer dirs, top-most first, which say what is a change (absent: no
   * parent); copy: lowers[0] is the full parent tree (absent: scratch).
   */
  lowers?: string[];
  driver: LayerDriver;
  /** Written through a temp file in the same dir, then renamed. */
  output: string;
  compression: Compression;
  /** gzip 0-9 (default 6), zstd 1-22 (default 3). */
  level?: number;
  /** Clamp mtimes to min(mtime, this) (seconds) for reproducible layers. */
  sourceDateEpoch?: number;
}

export interface ApplyLayerOptions {
  /** A tar, tar+gzip or tar+zstd file (detected by magic bytes). */
  layer: string;
  target: string;
  /** overlay: whiteouts become char 0/0 + opaque xattr; copy: deletions are carried out. */
  driver: LayerDriver;
  /** Names the layer in errors (`layer <digest>: entry "<path>": …`); the file path otherwise. */
  layerDigest?: string;
}

export interface ExtractArchiveOptions {
  archive: string;
  target: string;
  /** Replaces every entry's owner. */
  owner?: { uid: number; gid: number };
  /** Replaces every entry's mtime (seconds since the epoch). */
  mtime?: number;
  /** Names the archive in errors (as the user named it); its path otherwise. */
  name?: string;
}

export interface LayerEntry {
  /** For whiteout/opaque markers, the path deleted / the opaque directory. */
  path: string;
  kind: 'file' | 'dir' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo' | 'whiteout' | 'opaque';
  size: number;
}

export interface TreeEntry {
  /** `/`-separated, relative to the scanned root. */
  rel: string;
  kind: 'file' | 'dir' | 'symlink' | 'other';
  /** Permission bits with set-id and sticky bits. */
  mode: number;
  uid: number;
  gid: number;
  /** Regular files only; 0 for the rest. */
  size: number;
  mtimeMs: number;
  atimeMs: number;
  ino: number;
  nlink: number;
  linkTarget?: string;
}

/** scanTree's columns (see native/src/tree_scan.rs): zipped into TreeEntry by scan-tree.ts. */
export interface RawTreeScan {
  /** Relative paths joined by NUL. */
  rels: string;
  /** 0 file, 1 dir, 2 symlink, 3 other. */
  kinds: Buffer;
  /** 8 per entry: mode, uid, gid, size, mtimeMs, atimeMs, ino, nlink. */
  numbers: Float64Array;
  /** Symlink targets in entry order. */
  links: string[];
  /** `sha256:` over every entry's path, kind, mode, owner, size, mtime, inode and link target. */
  fingerprint: string;
}

/** One entry a copy plan creates; directories come before what they hold. */
export interface CopyPlanOp {
  kind: 'dir' | 'file' | 'symlink';
  /** Absolute host path. */
  to: string;
  /** file: where its bytes come from (opened without following a symlink). */
  from?: string;
  /** file: its size. */
  size?: number;
  linkTarget?: string;
  mode: number;
  uid: number;
  gid: number;
  atimeMs: number;
  mtimeMs: number;
}

export interface CopyPlan {
  /** The destination tree's root: errors name paths relative to it. */
  root: string;
  ops: CopyPlanOp[];
  /** Replace an existing entry of the other kind (file vs directory) instead of failing. */
  replace: boolean;
}

/** Called with bytes done so far, at most every 64 KiB / 10 ms, and once with the total. */
export type ProgressCallback = (bytes: number) => void;

export interface NativeAddon {
  /** flock(LOCK_EX | LOCK_NB) on an open descriptor: true when taken, false when held elsewhere. */
  tryLockFile(fd: number): boolean;
  sha256File(path: string): Promise<FileDigest>;
  /** `sha256:` digests of many files, in order, hashed on all cores. */
  sha256Files(paths: string[]): Promise<string[]>;
  /** Every entry below root as columns; use scanTree() from scan-tree.ts for entries. */
  scanTree(root: string): Promise<RawTreeScan>;
  /** Directories in order, then files and symlinks on all cores, then directory metadata. */
  applyCopyPlan(plan: CopyPlan): Promise<number>;
  /** Adds redirect_dir=off,metacopy=off,index=off where the kernel knows them. */
  mountOverlay(opts: OverlayMountOptions): Promise<void>;
  unmount(target: string, opts?: { detach?: boolean }): Promise<void>;
  /** Lazy unmount on the calling thread, for process 'exit' handlers only. */
  unmountDetachSync(target: string): void;
  /** Full copy preserving modes, owners, xattrs, links, devices, times; reflinks where it can. */
  cloneTree(src: string, dst: string): Promise<CloneStats>;
  /** Diff as an OCI layer blob in one pass; progress counts uncompressed tar bytes. */
  diffLayer(opts: DiffLayerOptions, onProgress?: ProgressCallback): Promise<LayerInfo>;
  /** Applies a layer, refusing entries outside target; progress counts bytes of the layer file. */
  applyLayer(opts: ApplyLayerOptions, onProgress?: ProgressCallback): Promise<{ diffId: string; entries: number }>;
  /** A tar file (plain, or gzip/zstd) → a layer blob; progress counts bytes of the input file. */
  compressLayer(
    /** level: gzip 0-9 (default 6), zstd 1-22 (default 3); out of range rejects with KILN_INVALID_ARG. */
    opts: { input: string; output: string; compression: Compression; level?: number },
    onProgress?: ProgressCallback,
  ): Promise<LayerInfo>;
  /** Entries in tar order (the root entry is not listed). */
  layerEntries(layer: string): Promise<LayerEntry[]>;
  /**
   * Extracts a local tar archive (plain, gzip, zstd, bzip2 or xz) into `target` as ADD does:
   * `.wh.` names are ordinary files, `..` stays at the target, symlinked parents resolve inside
   * it, devices and fifos are skipped; an entry it refuses rejects with KILN_LAYER_ENTRY and `entry`.
   */
  extractArchive(opts: ExtractArchiveOptions): Promise<{ diffId: string; entries: number }>;
  /** The compression of a file that is a tar archive; null for any other file. */
  archiveCompression(file: string): Promise<ArchiveCompression | null>;
  /**
   * The host path of `p` (read as absolute inside `root`) with every symlink followed inside the
   * root (the last one unless `followLast` is false) and missing parts kept as written; a
   * symlink loop rejects with code ELOOP.
   */
  resolveInRoot(root: string, p: string, followLast?: boolean): Promise<string>;
  /** The topmost layer's host path for `p` in the union of overlay `layers` (topmost first), or null. */
  resolveInLayers(layers: string[], p: string): Promise<string | null>;
}

const load = createRequire(import.meta.url);
export const native: NativeAddon = load(path.join(PACKAGE_DIR, 'native', 'kiln-native.node')) as NativeAddon;
