// A directory tree's entries from one native walk (lstat fields, symlinks not followed), so
// selection and copy planning happen in memory instead of one awaited stat per entry.
import { native, type RawTreeScan } from './binding.js';

export interface TreeEntry {
  /** `/`-separated, relative to the scanned root. */
  rel: string;
  kind: 'file' | 'dir' | 'symlink' | SpecialKind;
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
  /** A character or block device's number (st_rdev); 0 for the rest. */
  rdev: number;
  linkTarget?: string;
}

/** Files that hold no data: BuildKit copies fifos and devices as they are, a socket as an empty file. */
export type SpecialKind = 'fifo' | 'socket' | 'char' | 'block';

const KINDS: TreeEntry['kind'][] = ['file', 'dir', 'symlink', 'fifo', 'socket', 'char', 'block'];
const FIELDS = 9;

export interface TreeScan {
  /** Changes when any entry's path, kind, mode, owner, size, mtime, inode, device or link target does. */
  fingerprint: string;
  /** The entries, built on first call (a rebuild whose fingerprint matches never needs them). */
  entries(): TreeEntry[];
}

/** One native walk of `root`: its fingerprint now, its entries on demand. */
export async function scanTreeLazily(root: string): Promise<TreeScan> {
  const raw = await native.scanTree(root);
  let built: TreeEntry[] | undefined;
  return { fingerprint: raw.fingerprint, entries: () => (built ??= zip(raw)) };
}

/** Every entry below `root`, sorted by name within each directory, parents before children. */
export async function scanTree(root: string): Promise<TreeEntry[]> {
  return zip(await native.scanTree(root));
}

function zip(raw: RawTreeScan): TreeEntry[] {
  if (raw.kinds.length === 0) return [];
  const rels = raw.rels.split('\0');
  const n = raw.numbers;
  let link = 0;
  return rels.map((rel, i) => {
    const kind = KINDS[raw.kinds[i]!]!;
    const o = i * FIELDS;
    return {
      rel, kind,
      mode: n[o]!, uid: n[o + 1]!, gid: n[o + 2]!, size: n[o + 3]!,
      mtimeMs: n[o + 4]!, atimeMs: n[o + 5]!, ino: n[o + 6]!, nlink: n[o + 7]!, rdev: n[o + 8]!,
      // Always present (undefined but for symlinks): one object shape for all entries, no spread.
      linkTarget: kind === 'symlink' ? raw.links[link++]! : undefined,
    };
  });
}
