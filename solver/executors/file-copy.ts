// The copy action with Docker's COPY/ADD semantics: wildcard sources, directory contents,
// trailing-slash destinations, created parents, --chmod, --chown, include/exclude filters,
// archive unpacking for ADD, fixed timestamps; every path resolved inside its own root.
import { constants, type Stats } from 'node:fs';
import { chmod, copyFile, lchown, lstat, lutimes, mkdir, readdir, readlink, rm, stat, symlink } from 'node:fs/promises';
import path from 'node:path';
import { PatternMatcher } from '../../frontend/dockerignore.js';
import type { FileActionCopy } from '../llb/types.js';
import { archiveCompression, extractArchive } from './archive-extract.js';
import { CopyError, InvalidModeError } from './errors.js';
import { parseModeString, type ModeChange } from './file-mode.js';
import { resolveOwner, type Owner } from './file-owner.js';
import { timestampSeconds } from './file-time.js';
import { isWithin, resolveInRoot } from './root-path.js';
import { hasWildcard, matchComponent } from './wildcard.js';

export interface CopyRoots {
  /** Names the build step in errors. */
  step: string;
  /** The tree the sources are read from (the secondary input). */
  srcRoot: string;
  /** The tree being written (the mounted base). */
  destRoot: string;
}

interface Apply {
  owner?: Owner;
  mode?: ModeChange;
  mtime?: number;
  include?: PatternMatcher;
  exclude?: PatternMatcher;
}

export async function copyAction(roots: CopyRoots, c: FileActionCopy): Promise<void> {
  const src = c.src ?? '/';
  const dest = c.dest ?? '/';
  const apply: Apply = {
    owner: await resolveOwner(roots.step, roots.destRoot, c.owner),
    mode: modeChange(roots.step, c),
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
  if (destIsDir) await makeDirs(roots, destHost, c.createDestPath ?? false, apply, dest);

  for (const s of sources) {
    const st = await lstat(s.host);
    if (c.attemptUnpackDockerCompatibility && st.isFile()) {
      const compression = await archiveCompression(s.host);
      if (compression !== undefined) {
        await makeDirs(roots, destHost, c.createDestPath ?? false, apply, dest);
        await extractArchive(s.host, compression, { step: roots.step, root: roots.destRoot, dest: destHost, owner: apply.owner, mtime: apply.mtime });
        continue;
      }
    }
    const existing = await stat(destHost).catch(() => undefined);
    let target = destHost;
    if ((st.isDirectory() && !c.dirCopyContents && existing !== undefined) || (!st.isDirectory() && existing?.isDirectory())) {
      target = path.join(destHost, path.basename(s.host));
    }
    const parent = st.isDirectory() && !c.dirCopyContents ? target : path.dirname(target);
    await makeDirs(roots, parent, c.createDestPath ?? false, apply, dest);
    if (st.isDirectory()) await copyDirContents(s.host, target, '', apply, c.alwaysReplaceExistingDestPaths ?? false, roots);
    else await copyEntry(s.host, st, target, apply, c.alwaysReplaceExistingDestPaths ?? false, roots);
  }
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
  host: string;
}

/** The sources `src` names: one path, or every match of its wildcards (Go filepath.Glob order: sorted). */
async function matchSources(roots: CopyRoots, src: string, c: FileActionCopy): Promise<Source[]> {
  const follow = c.followSymlink ?? false;
  if (!c.allowWildcard || !hasWildcard(src)) {
    const host = await resolveInRoot(roots.srcRoot, src, { followLast: follow });
    return (await lstat(host).catch(() => undefined)) ? [{ host }] : [];
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
    if (await lstat(host).catch(() => undefined)) out.push({ host });
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
  await mkdir(host, { mode: 0o755 });
  await chmod(host, 0o755);
  if (apply.owner) await lchown(host, apply.owner.uid, apply.owner.gid);
  if (apply.mtime !== undefined) await lutimes(host, apply.mtime, apply.mtime);
}

/**
 * Copies what is below `srcDir` into `destDir` (created when missing); `rel` is the path below the
 * copy's source for the filters. Returns whether `destDir` was created or written to. A directory
 * that already existed at the top keeps its own mode, owner and times, as with Docker.
 */
async function copyDirContents(srcDir: string, destDir: string, rel: string, apply: Apply, replace: boolean, roots: CopyRoots): Promise<boolean> {
  const st = await lstat(srcDir);
  const keepMeta = rel === '' && (await lstat(destDir).catch(() => undefined))?.isDirectory() === true;
  let created = false;
  const ensure = async () => {
    if (created) return;
    created = true;
    await ensureDir(destDir, st, replace, roots);
  };
  if (rel === '' || selected(rel, apply)) await ensure();
  for (const name of (await readdir(srcDir)).sort()) {
    const childRel = rel === '' ? name : `${rel}/${name}`;
    if (apply.exclude?.matches(childRel) && !apply.exclude.exclusions) continue;
    const from = path.join(srcDir, name);
    const cst = await lstat(from);
    if (cst.isDirectory()) {
      // A directory holding an included file is created (by the recursive mkdir below) even when it is not itself included.
      const sub = await copyDirContents(from, path.join(destDir, name), childRel, apply, replace, roots);
      if (sub) created = true;
    } else if (selected(childRel, apply)) {
      await ensure();
      await copyEntry(from, cst, path.join(destDir, name), apply, replace, roots);
    }
  }
  if (created && !keepMeta) await finishDir(destDir, st, apply);
  return created;
}

function selected(rel: string, apply: Apply): boolean {
  if (apply.include && !apply.include.matches(rel)) return false;
  return !apply.exclude?.matches(rel);
}

async function ensureDir(dest: string, src: Stats, replace: boolean, roots: CopyRoots): Promise<void> {
  const existing = await lstat(dest).catch(() => undefined);
  if (existing && !existing.isDirectory()) {
    if (!replace) throw new CopyError(roots.step, `cannot overwrite non-directory /${path.relative(roots.destRoot, dest)} with a directory`);
    await rm(dest, { force: true });
  }
  await mkdir(dest, { recursive: true, mode: src.mode & 0o7777 });
}

/** Mode, owner and times are set after the contents, so writing into the directory does not reset its mtime. */
async function finishDir(dest: string, src: Stats, apply: Apply): Promise<void> {
  await chmod(dest, apply.mode ? apply.mode(src.mode & 0o7777, true) : src.mode & 0o7777);
  await lchown(dest, apply.owner?.uid ?? src.uid, apply.owner?.gid ?? src.gid);
  const t = apply.mtime ?? src.mtimeMs / 1000;
  await lutimes(dest, apply.mtime ?? src.atimeMs / 1000, t);
}

async function copyEntry(from: string, st: Stats, to: string, apply: Apply, replace: boolean, roots: CopyRoots): Promise<void> {
  const existing = await lstat(to).catch(() => undefined);
  if (existing?.isDirectory()) {
    if (!replace) throw new CopyError(roots.step, `cannot overwrite directory /${path.relative(roots.destRoot, to)} with a non-directory`);
    await rm(to, { recursive: true, force: true });
  } else if (existing) {
    await rm(to, { force: true });
  }
  if (st.isSymbolicLink()) {
    await symlink(await readlink(from), to);
  } else if (st.isFile()) {
    await copyFile(from, to, constants.COPYFILE_FICLONE);
    await chmod(to, apply.mode ? apply.mode(st.mode & 0o7777, false) : st.mode & 0o7777);
  } else {
    // Sockets, fifos and devices are not build inputs; Docker's COPY skips what it cannot copy too.
    return;
  }
  await lchown(to, apply.owner?.uid ?? st.uid, apply.owner?.gid ?? st.gid);
  await lutimes(to, apply.mtime ?? st.atimeMs / 1000, apply.mtime ?? st.mtimeMs / 1000);
}
