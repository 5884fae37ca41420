// The copy action with Docker's COPY/ADD semantics: wildcard sources, directory contents,
// trailing-slash destinations, created parents, --chmod, --chown, include/exclude filters,
// archive unpacking for ADD, fixed timestamps; every path resolved inside its own root.
import type { Stats } from 'node:fs';
import { chmod, lchown, lstat, lutimes, mkdir, readdir, readlink, stat } from 'node:fs/promises';
import path from 'node:path';
import { PatternMatcher } from '../../patterns/matcher.js';
import { native, type CopyPlanOp } from '../../native/binding.js';
import { scanTree } from '../../native/scan-tree.js';
import type { FileActionCopy } from '../llb/types.js';
import { archiveCompression, extractArchive } from './archive-extract.js';
import { CopyError, InvalidModeError } from './errors.js';
import { parseModeString, type ModeChange } from './file-mode.js';
import { resolveOwner, type Owner } from './file-owner.js';
import { timestampSeconds } from './file-time.js';
import { isWithin, resolveInRoot } from './root-path.js';
import { selectEntries, type Filters } from './tree-select.js';
import { asCopyFailure } from './copy-failure.js';
import { specialFileOp, specialKindOf } from './special-files.js';
import { hasCode, NATIVE_FAILURE } from '../../native/native-error.js';
import { hasWildcard, matchComponent } from '../../patterns/glob.js';

export interface CopyRoots {
  /** Names the build step in errors. */
  step: string;
  /** The tree the sources are read from (the secondary input). */
  srcRoot: string;
  /** The tree being written (the mounted base). */
  destRoot: string;
}

interface Apply extends Filters {
  owner?: Owner;
  mode?: ModeChange;
  /** The mode of the directories the copy creates. */
  dirMode: number;
  mtime?: number;
}

export async function copyAction(roots: CopyRoots, c: FileActionCopy): Promise<void> {
  const src = c.src ?? '/';
  const dest = c.dest ?? '/';
  const apply: Apply = {
    owner: await resolveOwner(roots.step, roots.destRoot, c.owner),
    mode: modeChange(roots.step, c),
    dirMode: createdDirMode(c),
    mtime: timestampSeconds(c.timestamp),
    include: c.includePatterns?.length ? new PatternMatcher(c.includePatterns) : undefined,
    exclude: c.excludePatterns?.length ? new PatternMatcher(c.excludePatterns) : undefined,
  };

  const sources = await matchSources(roots, src, c);
  if (sources.length === 0) {
    if (c.allowWildcard && c.allowEmptyWildcard && hasWildcard(src)) return;
    throw new CopyError(roots.step, hasWildcard(src) && c.allowWildcard ? `${src}: no source files were specified` : `${src}: not found in the source`);
  }

  const destIsDir = dest.endsWith('/') || sources.length > 1;
  const destHost = await resolveInRoot(roots.destRoot, dest);
  const create = c.createDestPath ?? false;
  for (const s of sources) {
    const st = await lstat(s.host);
    if (c.attemptUnpackDockerCompatibility && st.isFile()) {
      const compression = await archiveCompression(s.host);
      if (compression !== undefined) {
        // BuildKit unpacks into a destination made 0755 whatever --chmod says.
        await makeDirs(roots, destHost, create, { ...apply, dirMode: 0o755 }, dest);
        await extractArchive(s.host, { step: roots.step, dest: destHost, owner: apply.owner, mtime: apply.mtime });
        continue;
      }
    }
    if (destIsDir) await makeDirs(roots, destHost, create, apply, dest);
    const existing = await stat(destHost).catch(() => undefined);
    let target = destHost;
    if ((st.isDirectory() && !c.dirCopyContents && existing !== undefined) || (!st.isDirectory() && existing?.isDirectory())) {
      target = path.join(destHost, s.name);
    }
    // A directory's contents copied to a new path make that path as the copy makes any
    // directory (BuildKit's MkdirAll), not as a copy of the source directory.
    const intoNew = st.isDirectory() && c.dirCopyContents && existing === undefined;
    await makeDirs(roots, intoNew ? target : path.dirname(target), create, apply, dest);
    if (st.isDirectory()) await copyDirContents(s.host, target, apply, c.alwaysReplaceExistingDestPaths ?? false, roots);
    else await copyEntry(s.host, st, target, apply, c.alwaysReplaceExistingDestPaths ?? false, roots);
  }
}

/**
 * An octal --chmod without its set-id and sticky bits (BuildKit creates directories through Go's
 * os.Chmod, which drops those of a plain number), else 0755; a symbolic --chmod leaves 0755.
 */
function createdDirMode(c: FileActionCopy): number {
  const mode = c.mode ?? -1;
  return c.modeStr || mode === -1 ? 0o755 : mode & 0o777;
}

function modeChange(step: string, c: FileActionCopy): ModeChange | undefined {
  if (c.modeStr) {
    const change = parseModeString(c.modeStr);
    if (!change) throw new InvalidModeError(step, c.modeStr);
    return change;
  }
  const mode = c.mode ?? -1;
  return mode === -1 ? undefined : () => mode & 0o7777;
}

interface Source {
  /** Where it is, every symlink followed inside the source root. */
  host: string;
  /** The name it lands under in a destination directory: its own, even when it is a followed link. */
  name: string;
}

/** The sources `src` names: one path, or every match of its wildcards (Go filepath.Glob order: sorted). */
async function matchSources(roots: CopyRoots, src: string, c: FileActionCopy): Promise<Source[]> {
  const follow = c.followSymlink ?? false;
  if (!c.allowWildcard || !hasWildcard(src)) {
    const host = await resolveInRoot(roots.srcRoot, src, { followLast: follow });
    return (await lstat(host).catch(() => undefined)) ? [{ host, name: path.posix.basename(path.posix.join('/', src)) }] : [];
  }
  let dirs = ['/'];
  const parts = src.split('/').filter((p) => p !== '' && p !== '.');
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    const next: string[] = [];
    for (const d of dirs) {
      if (!hasWildcard(part)) {
        next.push(path.posix.join(d, part));
        continue;
      }
      const host = await resolveInRoot(roots.srcRoot, d);
      const names = await readdir(host).catch(() => [] as string[]);
      for (const n of names.sort()) if (matchComponent(part, n)) next.push(path.posix.join(d, n));
    }
    dirs = next;
  }
  const out: Source[] = [];
  for (const p of dirs) {
    const host = await resolveInRoot(roots.srcRoot, p, { followLast: follow });
    if (await lstat(host).catch(() => undefined)) out.push({ host, name: path.posix.basename(p) });
  }
  return out;
}

/** mkdir -p inside the destination root; new dirs get the copy's owner and timestamp, as BuildKit's MkdirAll does. */
async function makeDirs(roots: CopyRoots, host: string, create: boolean, apply: Apply, dest: string): Promise<void> {
  const st = await stat(host).catch(() => undefined);
  if (st?.isDirectory()) return;
  if (st) throw new CopyError(roots.step, `cannot copy to ${dest}: a path component is not a directory`);
  const parent = path.dirname(host);
  if (!create && !(await stat(parent).catch(() => undefined))?.isDirectory()) {
    throw new CopyError(roots.step, `destination ${dest}: the parent directory does not exist`);
  }
  if (parent !== host && isWithin(roots.destRoot, parent)) await makeDirs(roots, parent, create, apply, dest);
  await mkdir(host, { mode: apply.dirMode });
  await chmod(host, apply.dirMode);
  if (apply.owner) await lchown(host, apply.owner.uid, apply.owner.gid);
  if (apply.mtime !== undefined) await lutimes(host, apply.mtime, apply.mtime);
}

interface StatLike {
  mode: number;
  uid: number;
  gid: number;
  atimeMs: number;
  mtimeMs: number;
}

/** The mode, owner and times a copied entry gets: the source's, unless --chmod, --chown or a fixed timestamp say otherwise. */
function copiedMeta(apply: Apply, isDir: boolean, e: StatLike): Pick<CopyPlanOp, 'mode' | 'uid' | 'gid' | 'atimeMs' | 'mtimeMs'> {
  const fixed = apply.mtime !== undefined ? apply.mtime * 1000 : undefined;
  return {
    mode: apply.mode ? apply.mode(e.mode & 0o7777, isDir) : e.mode & 0o7777,
    uid: apply.owner?.uid ?? e.uid,
    gid: apply.owner?.gid ?? e.gid,
    atimeMs: fixed ?? e.atimeMs,
    mtimeMs: fixed ?? e.mtimeMs,
  };
}

/**
 * The writes are done natively (on all cores for many entries). The plan's refusals (an entry of
 * the other kind in the way, without `replace`) and layout errnos are the step's error; anything
 * else (a full disk, a bad plan: a bug) is not the user's and is not turned into one.
 */
async function runPlan(roots: CopyRoots, ops: CopyPlanOp[], replace: boolean): Promise<void> {
  try {
    await native.applyCopyPlan({ root: roots.destRoot, ops, replace });
  } catch (err) {
    // The addon's own refusals (a file over a directory) carry KILN_NATIVE; its argument checks
    // (KILN_INVALID_ARG) are bugs.
    throw asCopyFailure(roots.step, err, (e) => hasCode(e, NATIVE_FAILURE));
  }
}

/**
 * Copies what is below `srcDir` into `destDir` (created when missing): one native scan, with the
 * selection and metadata decided here. A directory already at the top keeps its own mode and
 * owner but takes the source directory's times, as BuildKit's copier restores them.
 */
async function copyDirContents(srcDir: string, destDir: string, apply: Apply, replace: boolean, roots: CopyRoots): Promise<void> {
  const top = await lstat(destDir).catch(() => undefined);
  const srcMeta = copiedMeta(apply, true, await lstat(srcDir));
  const topMeta = top?.isDirectory() ? { ...srcMeta, mode: top.mode & 0o7777, uid: top.uid, gid: top.gid } : srcMeta;
  const ops: CopyPlanOp[] = [{ kind: 'dir', to: destDir, ...topMeta }];
  for (const e of selectEntries(await scanTree(srcDir), apply)) {
    const to = path.join(destDir, e.rel);
    const meta = copiedMeta(apply, e.kind === 'dir', e);
    if (e.kind === 'dir') ops.push({ kind: 'dir', to, ...meta });
    else if (e.kind === 'file') ops.push({ kind: 'file', to, from: path.join(srcDir, e.rel), size: e.size, ...meta });
    else if (e.kind === 'symlink') ops.push({ kind: 'symlink', to, linkTarget: e.linkTarget!, ...meta });
    else ops.push(specialFileOp(e.kind, to, e.rdev, meta));
  }
  await runPlan(roots, ops, replace);
}

async function copyEntry(from: string, st: Stats, to: string, apply: Apply, replace: boolean, roots: CopyRoots): Promise<void> {
  const meta = copiedMeta(apply, false, st);
  if (st.isSymbolicLink()) await runPlan(roots, [{ kind: 'symlink', to, linkTarget: await readlink(from), ...meta }], replace);
  else if (st.isFile()) await runPlan(roots, [{ kind: 'file', to, from, size: st.size, ...meta }], replace);
  else if (!st.isDirectory()) await runPlan(roots, [specialFileOp(specialKindOf(st)!, to, st.rdev, meta)], replace);
}
