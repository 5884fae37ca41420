// The addon's cloneTree and overlay mount functions, called as the snapshotter calls them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmod, chown, lchown, link, lstat, lutimes, mkdir, mkdtemp, readFile, readdir, readlink, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { native } from '../../native/binding.js';
import { mountsUnder } from '../helpers/mountinfo.js';

async function scratch(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'kiln-native-clone-'));
  t.after(async () => {
    for (const m of (await mountsUnder(dir)).reverse()) await native.unmount(m.mountPoint, { detach: true }).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });
  return dir;
}

test('cloneTree keeps modes, owners, hard links, symlinks, devices, fifos and times', async (t) => {
  const dir = await scratch(t);
  const src = path.join(dir, 'src');
  const dst = path.join(dir, 'dst');
  await mkdir(path.join(src, 'etc/sub'), { recursive: true });
  await writeFile(path.join(src, 'etc/passwd'), 'root:x:0:0\n');
  await chown(path.join(src, 'etc/passwd'), 1001, 1002);
  await chmod(path.join(src, 'etc/passwd'), 0o4755);
  await link(path.join(src, 'etc/passwd'), path.join(src, 'hardlink'));
  await symlink('etc/passwd', path.join(src, 'sym'));
  await lchown(path.join(src, 'sym'), 7, 8);
  execFileSync('mknod', ['-m', '0620', path.join(src, 'tty'), 'c', '4', '1']);
  execFileSync('mknod', [path.join(src, 'blk'), 'b', '7', '0']);
  execFileSync('mkfifo', ['-m', '0604', path.join(src, 'fifo')]);
  await chmod(path.join(src, 'etc/sub'), 0o1770);
  const when = new Date('2001-02-03T04:05:06Z');
  await utimes(path.join(src, 'etc/passwd'), when, when);
  await lutimes(path.join(src, 'sym'), when, when);
  await utimes(path.join(src, 'etc/sub'), when, when);
  await utimes(path.join(src, 'etc'), when, when);

  const stats = await native.cloneTree(src, dst);
  assert.equal(stats.files, 8);
  assert.equal(typeof stats.reflinked, 'boolean');

  const [a, b] = [await lstat(path.join(src, 'etc/passwd')), await lstat(path.join(dst, 'etc/passwd'))];
  assert.deepEqual([b.mode, b.uid, b.gid, b.mtimeMs], [a.mode, 1001, 1002, when.getTime()]);
  assert.equal(await readFile(path.join(dst, 'etc/passwd'), 'utf8'), 'root:x:0:0\n');
  assert.equal((await lstat(path.join(dst, 'hardlink'))).ino, b.ino, 'hard links stay linked');
  assert.notEqual(b.ino, a.ino, 'but not to the source');
  const sym = await lstat(path.join(dst, 'sym'));
  assert.ok(sym.isSymbolicLink());
  assert.equal(await readlink(path.join(dst, 'sym')), 'etc/passwd');
  assert.deepEqual([sym.uid, sym.gid, sym.mtimeMs], [7, 8, when.getTime()]);
  const tty = await lstat(path.join(dst, 'tty'));
  assert.ok(tty.isCharacterDevice());
  assert.deepEqual([tty.rdev, tty.mode & 0o7777], [(await lstat(path.join(src, 'tty'))).rdev, 0o620]);
  assert.ok((await lstat(path.join(dst, 'blk'))).isBlockDevice());
  const fifo = await lstat(path.join(dst, 'fifo'));
  assert.ok(fifo.isFIFO());
  assert.equal(fifo.mode & 0o7777, 0o604);
  const sub = await lstat(path.join(dst, 'etc/sub'));
  assert.deepEqual([sub.mode & 0o7777, sub.mtimeMs], [0o1770, when.getTime()]);
  assert.equal((await lstat(path.join(dst, 'etc'))).mtimeMs, when.getTime(), "a dir's time survives its children");
});

test("cloneTree copies an overlay layer's whiteouts and opaque xattrs so the copy stacks the same", async (t) => {
  const dir = await scratch(t);
  const [lower, upper, work, merged] = ['lower', 'upper', 'work', 'merged'].map((d) => path.join(dir, d)) as [string, string, string, string];
  for (const d of [lower, upper, work, merged]) await mkdir(d);
  await mkdir(path.join(lower, 'opaque'));
  await writeFile(path.join(lower, 'opaque/hidden'), 'h');
  await writeFile(path.join(lower, 'deleted'), 'd');
  await native.mountOverlay({ lowers: [lower], upper, work, target: merged });
  // Through the mount, the kernel writes a whiteout for `deleted` and marks the recreated dir
  // opaque with the trusted.overlay.opaque xattr.
  await rm(path.join(merged, 'deleted'));
  await rm(path.join(merged, 'opaque'), { recursive: true });
  await mkdir(path.join(merged, 'opaque'));
  await writeFile(path.join(merged, 'opaque/new'), 'n');
  await native.unmount(merged);

  const copy = path.join(dir, 'copy');
  await native.cloneTree(upper, copy);
  // Only the xattr makes the dir opaque: without it, lower's `hidden` would show through.
  await native.mountOverlay({ lowers: [copy, lower], target: merged });
  try {
    assert.deepEqual((await readdir(merged)).sort(), ['opaque']);
    assert.deepEqual(await readdir(path.join(merged, 'opaque')), ['new']);
  } finally {
    await native.unmount(merged);
  }
  assert.deepEqual(await mountsUnder(dir), []);
});

test('cloneTree and the mount functions reject with the paths involved', async (t) => {
  const dir = await scratch(t);
  await assert.rejects(native.cloneTree(path.join(dir, 'nope'), path.join(dir, 'dst')), /nope/);
  await assert.rejects(native.unmount(dir), /not a mount point/);
  await assert.rejects(native.mountOverlay({ lowers: ['relative'], target: dir }), /absolute/);
  await assert.rejects(native.mountOverlay({ lowers: [path.join(dir, 'missing'), dir], target: dir }), /missing/);
});
