// `kiln diff A B`: the files B adds (A), changes (C) and deletes (D) relative to A, as `docker diff`
// prints them. When B is A plus layers, B's extra layer listings say it all; otherwise both images
// are unpacked and the trees compared.
import { lstat, mkdir, mkdtemp, readdir, readlink, rm } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { native, type LayerEntry as NativeLayerEntry } from '../native/binding.js';
import { resolveImage, type ResolvedImage } from '../snapshotter/image-read.js';
import type { Platform } from '../oci/image-spec.js';
import type { Store } from '../snapshotter/store.js';

export type ChangeKind = 'A' | 'C' | 'D';

export interface Change {
  kind: ChangeKind;
  /** Absolute path inside the image (`/etc/passwd`). */
  path: string;
}

/** What the change computation needs of a native `layerEntries` listing entry. */
export type LayerEntry = Pick<NativeLayerEntry, 'path' | 'kind'>;

export function formatChanges(changes: readonly Change[]): string {
  return changes.map((c) => `${c.kind} ${c.path}\n`).join('');
}

const whiteoutPrefix = '.wh.';
const opaqueMarker = '.wh..wh..opq';

function clean(p: string): string {
  return path.posix.normalize('/' + p).replace(/\/+$/, '') || '/';
}

/** The path a whiteout or opaque entry is about, whether listed as the marker file or the target. */
function subject(entry: LayerEntry): string {
  const p = clean(entry.path);
  const base = path.posix.basename(p);
  if (base === opaqueMarker) return path.posix.dirname(p);
  if (base.startsWith(whiteoutPrefix)) {
    return path.posix.join(path.posix.dirname(p), base.slice(whiteoutPrefix.length));
  }
  return p;
}

/** Whiteouts by OCI's naming rule too, whatever kind the listing gave the marker file. */
function kindOf(entry: LayerEntry): LayerEntry['kind'] {
  const base = path.posix.basename(clean(entry.path));
  if (base === opaqueMarker) return 'opaque';
  if (base.startsWith(whiteoutPrefix)) return 'whiteout';
  return entry.kind;
}

const isUnder = (p: string, dir: string) => (dir === '/' ? p !== '/' : p.startsWith(dir + '/'));

/**
 * Applies one layer's listing to a set of paths: deletions first, as they concern lower layers
 * only. `onDelete` gets each top-most removed path once (not what was under it).
 */
function applyListing(
  state: Set<string>,
  layer: readonly LayerEntry[],
  onDelete?: (p: string) => void,
  onAdd?: (p: string) => void,
): void {
  const remove = (p: string, self: boolean) => {
    const victims = [...state].filter((q) => (self && q === p) || isUnder(q, p));
    for (const q of victims) state.delete(q);
    for (const q of victims) if (!victims.some((v) => isUnder(q, v))) onDelete?.(q);
  };
  for (const e of layer) {
    if (kindOf(e) === 'whiteout') remove(subject(e), true);
    else if (kindOf(e) === 'opaque') remove(subject(e), false);
  }
  for (const e of layer) {
    if (kindOf(e) === 'whiteout' || kindOf(e) === 'opaque') continue;
    const p = clean(e.path);
    if (p === '/') continue;
    state.add(p);
    onAdd?.(p);
  }
}

/** Changes made by `extra` layers on top of `base` layers, from their listings alone. */
export function layerChanges(base: readonly (readonly LayerEntry[])[], extra: readonly (readonly LayerEntry[])[]): Change[] {
  const before = new Set<string>();
  for (const layer of base) applyListing(before, layer);
  const state = new Set(before);
  const marks = new Map<string, ChangeKind>();
  for (const layer of extra) {
    applyListing(
      state,
      layer,
      (p) => {
        // A deleted directory is one D line; what was under it needs none of its own.
        for (const q of [...marks.keys()]) if (isUnder(q, p)) marks.delete(q);
        if (before.has(p)) marks.set(p, 'D');
        else marks.delete(p);
      },
      (p) => marks.set(p, before.has(p) ? 'C' : 'A'),
    );
  }
  return withParents(marks, (dir) => before.has(dir) && state.has(dir));
}

/** As docker does, a directory holding a change is itself listed as changed. */
function withParents(marks: Map<string, ChangeKind>, existed: (dir: string) => boolean): Change[] {
  for (const p of [...marks.keys()]) {
    for (let dir = path.posix.dirname(p); dir !== '/'; dir = path.posix.dirname(dir)) {
      if (marks.has(dir) || !existed(dir)) continue;
      marks.set(dir, 'C');
    }
  }
  return [...marks]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([p, kind]) => ({ kind, path: p }));
}

function statKind(st: Stats): string {
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isFile()) return 'file';
  if (st.isCharacterDevice()) return 'char';
  if (st.isBlockDevice()) return 'block';
  if (st.isFIFO()) return 'fifo';
  return 'other';
}

async function differs(a: string, sa: Stats, b: string, sb: Stats): Promise<boolean> {
  if (statKind(sa) !== statKind(sb) || sa.mode !== sb.mode || sa.uid !== sb.uid || sa.gid !== sb.gid) return true;
  if (sa.isSymbolicLink()) return (await readlink(a)) !== (await readlink(b));
  if (sa.isCharacterDevice() || sa.isBlockDevice()) return sa.rdev !== sb.rdev;
  if (sa.isFile()) {
    if (sa.size !== sb.size) return true;
    // Same size: compare content, not mtimes, so re-tarred identical files are not "changed".
    const [ha, hb] = await Promise.all([native.sha256File(a), native.sha256File(b)]);
    return ha.digest !== hb.digest;
  }
  return false;
}

/** Changes that turn the tree at `aDir` into the one at `bDir`. */
export async function treeChanges(aDir: string, bDir: string): Promise<Change[]> {
  const marks = new Map<string, ChangeKind>();
  const existedInA = new Set<string>();
  const walk = async (rel: string, aExists: boolean): Promise<void> => {
    const bNames = await readdir(path.join(bDir, rel));
    const aNames = aExists ? await readdir(path.join(aDir, rel)) : [];
    const aSet = new Set(aNames);
    for (const name of bNames.sort()) {
      const r = path.posix.join(rel, name);
      const p = '/' + r;
      const sb = await lstat(path.join(bDir, r));
      let aChildIsDir = false;
      if (aSet.has(name)) {
        const sa = await lstat(path.join(aDir, r));
        aChildIsDir = sa.isDirectory();
        if (aChildIsDir) existedInA.add(p);
        if (await differs(path.join(aDir, r), sa, path.join(bDir, r), sb)) marks.set(p, 'C');
      } else {
        marks.set(p, 'A');
      }
      if (sb.isDirectory()) await walk(r, aChildIsDir);
    }
    const bSet = new Set(bNames);
    for (const name of aNames) if (!bSet.has(name)) marks.set('/' + path.posix.join(rel, name), 'D');
  };
  await walk('', true);
  return withParents(marks, (dir) => existedInA.has(dir));
}

function layerPaths(store: Store, image: ResolvedImage): string[] {
  return image.manifest.layers.map((l) => store.content.blobPath(l.digest));
}

export async function diffImages(store: Store, a: string, b: string, platform?: Platform): Promise<Change[]> {
  const [ia, ib] = [await resolveImage(store, a, platform), await resolveImage(store, b, platform)];
  const da = ia.config.rootfs.diff_ids;
  const db = ib.config.rootfs.diff_ids;
  if (da.length <= db.length && da.every((d, i) => d === db[i])) {
    const listings = await Promise.all(layerPaths(store, ib).map((p) => native.layerEntries(p)));
    return layerChanges(listings.slice(0, da.length), listings.slice(da.length));
  }
  const work = await mkdtemp(path.join(tmpdir(), 'kiln-diff-'));
  try {
    const unpack = async (image: ResolvedImage, dir: string) => {
      for (const [i, layer] of layerPaths(store, image).entries()) {
        await native.applyLayer({ layer, target: dir, driver: 'copy', layerDigest: image.manifest.layers[i]!.digest });
      }
    };
    const [ra, rb] = [path.join(work, 'a'), path.join(work, 'b')];
    await Promise.all([mkdir(ra), mkdir(rb)]);
    await Promise.all([unpack(ia, ra), unpack(ib, rb)]);
    return await treeChanges(ra, rb);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
