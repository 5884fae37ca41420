// The small file actions: mkdir (WORKDIR), mkfile (heredoc files), rm and symlink, each applied
// inside the mounted root with every path resolved within it.
import { chmod, lchown, lstat, lutimes, mkdir, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { FileActionMkDir, FileActionMkFile, FileActionRm, FileActionSymlink, PbChownOpt, Int64 } from '../llb/types.js';
import { FileActionError } from './errors.js';
import { resolveOwner } from './file-owner.js';
import { timestampSeconds } from './file-time.js';
import { isWithin, resolveInRoot } from './root-path.js';
import { hasWildcard, matchComponent } from '../../patterns/glob.js';

async function finish(step: string, root: string, host: string, owner: PbChownOpt | undefined, timestamp: Int64 | undefined): Promise<void> {
  const o = await resolveOwner(step, root, owner);
  if (o) await lchown(host, o.uid, o.gid);
  const t = timestampSeconds(timestamp);
  if (t !== undefined) await lutimes(host, t, t);
}

export async function mkdirAction(step: string, root: string, a: FileActionMkDir): Promise<void> {
  const p = a.path ?? '/';
  const host = await resolveInRoot(root, p);
  const existing = await lstat(host).catch(() => undefined);
  if (existing?.isDirectory()) return;
  if (existing) throw new FileActionError(step, `mkdir ${p}: a file already exists there`);
  const parent = path.dirname(host);
  if (!(await lstat(parent).catch(() => undefined))?.isDirectory()) {
    if (!a.makeParents) throw new FileActionError(step, `mkdir ${p}: the parent directory does not exist`);
    // Parents are created one by one so each gets the same owner and time, as BuildKit does.
    await mkdirAction(step, root, { ...a, path: path.posix.dirname(p) });
  }
  await mkdir(host);
  await chmod(host, (a.mode ?? 0o755) & 0o7777);
  await finish(step, root, host, a.owner, a.timestamp);
}

export async function mkfileAction(step: string, root: string, a: FileActionMkFile): Promise<void> {
  const p = a.path ?? '/';
  const host = await resolveInRoot(root, p);
  if (!(await lstat(path.dirname(host)).catch(() => undefined))?.isDirectory()) {
    throw new FileActionError(step, `cannot create ${p}: the parent directory does not exist`);
  }
  if ((await lstat(host).catch(() => undefined))?.isDirectory()) throw new FileActionError(step, `cannot create file ${p}: a directory exists there`);
  await rm(host, { force: true });
  await writeFile(host, a.data ?? new Uint8Array());
  await chmod(host, (a.mode ?? 0o644) & 0o7777);
  await finish(step, root, host, a.owner, a.timestamp);
}

export async function rmAction(step: string, root: string, a: FileActionRm): Promise<void> {
  const p = a.path ?? '/';
  const targets: string[] = [];
  if (a.allowWildcard && hasWildcard(path.posix.basename(p))) {
    const dir = await resolveInRoot(root, path.posix.dirname(p));
    const pattern = path.posix.basename(p);
    for (const n of await readdir(dir).catch(() => [] as string[])) if (matchComponent(pattern, n)) targets.push(path.join(dir, n));
  } else {
    // rm removes a link itself, never what it points at.
    const host = await resolveInRoot(root, p, { followLast: false });
    if (await lstat(host).catch(() => undefined)) targets.push(host);
  }
  if (targets.length === 0 && !a.allowNotFound) throw new FileActionError(step, `rm ${p}: no such file or directory`);
  for (const t of targets) {
    if (t === root || !isWithin(root, t)) throw new FileActionError(step, `rm ${p}: refusing to remove the root`);
    await rm(t, { recursive: true, force: true });
  }
}

export async function symlinkAction(step: string, root: string, a: FileActionSymlink): Promise<void> {
  const p = a.newpath ?? '/';
  const host = await resolveInRoot(root, p, { followLast: false });
  if (await lstat(host).catch(() => undefined)) throw new FileActionError(step, `symlink ${p}: a file already exists there`);
  await symlink(a.oldpath ?? '', host);
  await finish(step, root, host, a.owner, a.timestamp);
}
