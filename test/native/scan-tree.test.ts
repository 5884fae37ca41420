// scanTree (native/scan-tree.ts) on real trees: the lstat fields it reports, its order (sorted
// per directory, pre-order), and that it never follows a symlink.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { lstatSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { chmod, chown, link, mkdir, mkdtemp, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { scanTree } from '../../native/scan-tree.js';

async function scratch(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'kiln-scan-tree-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** The plain definition, in JS: names sorted bytewise per directory, each dir followed by its contents. */
function reference(root: string, rel = ''): Array<{ rel: string; kind: string }> {
  const out: Array<{ rel: string; kind: string }> = [];
  const names = readdirSync(path.join(root, rel)).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  for (const name of names) {
    const r = rel === '' ? name : `${rel}/${name}`;
    const st = lstatSync(path.join(root, r));
    const kind = st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : st.isFIFO() ? 'fifo' : st.isSocket() ? 'socket' : st.isCharacterDevice() ? 'char' : 'block';
    out.push({ rel: r, kind });
    if (kind === 'dir') out.push(...reference(root, r));
  }
  return out;
}

test('scanTree reports lstat fields, keeps set-id bits and does not follow symlinks', async (t) => {
  const dir = await scratch(t);
  const root = path.join(dir, 'root');
  const outside = path.join(dir, 'outside');
  await mkdir(path.join(root, 'a/inner'), { recursive: true });
  await mkdir(outside);
  await writeFile(path.join(outside, 'secret'), 'not part of the tree');
  await writeFile(path.join(root, 'a/inner/f'), '12345');
  await writeFile(path.join(root, 'suid'), 'x');
  await chown(path.join(root, 'suid'), 1234, 2345);
  await chmod(path.join(root, 'suid'), 0o4755); // after chown: chown clears set-id bits
  await chmod(path.join(root, 'a/inner'), 0o1750);
  await link(path.join(root, 'a/inner/f'), path.join(root, 'hard'));
  await symlink(outside, path.join(root, 'link-to-dir'));
  await symlink('nowhere', path.join(root, 'dangling'));
  execFileSync('mkfifo', [path.join(root, 'fifo')]);
  execFileSync('mknod', [path.join(root, 'null'), 'c', '1', '3']);
  execFileSync('mknod', [path.join(root, 'loop'), 'b', '7', '1']);
  execFileSync('python3', ['-c', 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])', path.join(root, 'sock')]);
  // A fractional mtime, so a scan truncating to whole ms or seconds would differ from lstat.
  await utimes(path.join(root, 'a/inner/f'), 1_000_000_000.123456, 1_600_000_000.987654);

  const got = await scanTree(root);
  assert.deepEqual(
    got.map((e) => [e.rel, e.kind]),
    [
      ['a', 'dir'], ['a/inner', 'dir'], ['a/inner/f', 'file'],
      ['dangling', 'symlink'], ['fifo', 'fifo'], ['hard', 'file'], ['link-to-dir', 'symlink'], ['loop', 'block'], ['null', 'char'],
      ['sock', 'socket'], ['suid', 'file'],
    ],
    'nothing from below link-to-dir: the symlink is listed, not followed',
  );
  for (const e of got) {
    const st = lstatSync(path.join(root, e.rel));
    assert.equal(e.mode, st.mode & 0o7777, `${e.rel} mode (no file-type bits)`);
    assert.equal(e.uid, st.uid, `${e.rel} uid`);
    assert.equal(e.gid, st.gid, `${e.rel} gid`);
    assert.equal(e.size, e.kind === 'file' ? st.size : 0, `${e.rel} size`);
    assert.equal(e.mtimeMs, st.mtimeMs, `${e.rel} mtimeMs exactly as node computes it`);
    // Reading a directory or a link (which the scan does after its stat) moves its atime.
    if (e.kind === 'file' || e.kind === 'fifo') assert.equal(e.atimeMs, st.atimeMs, `${e.rel} atimeMs`);
    assert.equal(e.ino, st.ino, `${e.rel} ino`);
    assert.equal(e.nlink, st.nlink, `${e.rel} nlink`);
    assert.equal(e.rdev, e.kind === 'char' || e.kind === 'block' ? st.rdev : 0, `${e.rel} rdev`);
    if (e.kind === 'symlink') assert.equal(e.linkTarget, readlinkSync(path.join(root, e.rel)));
    else assert.equal(e.linkTarget, undefined, `${e.rel} has no linkTarget`);
  }
  const byRel = new Map(got.map((e) => [e.rel, e]));
  assert.equal(byRel.get('suid')!.mode, 0o4755);
  assert.deepEqual([byRel.get('suid')!.uid, byRel.get('suid')!.gid], [1234, 2345]);
  assert.equal(byRel.get('a/inner')!.mode, 0o1750);
  assert.equal(byRel.get('a/inner/f')!.size, 5);
  assert.equal(byRel.get('hard')!.ino, byRel.get('a/inner/f')!.ino, 'hard links share an inode');
  assert.equal(byRel.get('hard')!.nlink, 2);
  assert.notEqual(byRel.get('a/inner/f')!.mtimeMs % 1000, 0, 'sub-second part kept');
  assert.ok(Math.abs(byRel.get('a/inner/f')!.atimeMs - 1_000_000_000_123.456) < 0.01, 'atime is the one set');
  assert.equal(byRel.get('link-to-dir')!.linkTarget, outside);
  assert.equal(byRel.get('link-to-dir')!.size, 0);
  assert.equal(byRel.get('null')!.rdev, (1 << 8) | 3);
});

test('scanTree sorts bytewise per directory and lists a directory before its contents', async (t) => {
  const root = await scratch(t);
  // '-' (0x2d) and '.' (0x2e) sort before '/' (0x2f): a plain sort of whole paths would put
  // `a-b` before `a/x`, while pre-order puts all of `a` first. Upper case sorts before lower.
  for (const d of ['a', 'a-b', 'B', 'ab']) await mkdir(path.join(root, d));
  for (const f of ['a/x', 'a/X', 'a.b', 'a-b/y', 'ab/z', 'B/q']) await writeFile(path.join(root, f), '');
  const got = (await scanTree(root)).map((e) => e.rel);
  assert.deepEqual(got, ['B', 'B/q', 'a', 'a/X', 'a/x', 'a-b', 'a-b/y', 'a.b', 'ab', 'ab/z']);
});

test('scanTree of an empty directory is empty', async (t) => {
  assert.deepEqual(await scanTree(await scratch(t)), []);
});

test('scanTree rejects for a missing root, naming it', async (t) => {
  const missing = path.join(await scratch(t), 'no-such-dir');
  await assert.rejects(scanTree(missing), (e: Error) => e.message.includes(missing));
});

test('scanTree rejects a non-UTF-8 file name, naming its directory', async (t) => {
  const root = await scratch(t);
  await mkdir(path.join(root, 'sub'));
  // Latin-1 "é": a valid Linux name that is not UTF-8, so it cannot become a JS string losslessly.
  writeFileSync(Buffer.concat([Buffer.from(path.join(root, 'sub') + '/caf'), Buffer.from([0xe9])]), '');
  await assert.rejects(scanTree(root), (e: Error) => e.message.includes(path.join(root, 'sub')) && /UTF-8/.test(e.message));
});

test('scanTree keeps pre-order on a 30-level deep tree and a 2000-file directory', async (t) => {
  const root = await scratch(t);
  // Deep: each level has a file before and after the subdirectory, so out-of-order flattening
  // of the level-by-level walk would show.
  let rel = '';
  for (let i = 0; i < 30; i++) {
    rel = rel === '' ? `d${i}` : `${rel}/d${i}`;
    await mkdir(path.join(root, rel));
    await writeFile(path.join(root, rel, 'a-file'), String(i));
    await writeFile(path.join(root, rel, 'z-file'), String(i));
  }
  // Wide: 2000 files next to a sibling directory that itself has content.
  await mkdir(path.join(root, 'wide/m-dir'), { recursive: true });
  await writeFile(path.join(root, 'wide/m-dir/inside'), '');
  await Promise.all(Array.from({ length: 2000 }, (_, i) => writeFile(path.join(root, 'wide', `f${String(i).padStart(4, '0')}`), '')));

  const got = await scanTree(root);
  assert.equal(got.length, 30 * 3 + 1 + 2000 + 2);
  assert.deepEqual(got.map((e) => ({ rel: e.rel, kind: e.kind })), reference(root));
  assert.equal(got.find((e) => e.rel.endsWith('/d29/z-file'))?.kind, 'file', 'deepest level reached');
});
