// The layer engine through the addon, on real trees: overlay upper dirs made by real overlay
// mounts, exact tar entries read back with tar-stream (an independent parser), round trips,
// determinism, compression checked by gzip/zstd/tar, and every escape an applied layer may try.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { mkdtemp, mkdir, writeFile, readFile, rm, symlink, link, lstat, readdir, readlink, chmod, chown, utimes, appendFile, access } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tar from 'tar-stream';
import { native, type LayerInfo } from '../../native/binding.js';

const LONG_DIR = 'long-' + 'd'.repeat(110); // > 100 bytes: needs a PAX path
const UNICODE = 'café-日本.txt';
/** security.capability granting cap_net_raw (+ep), as `setcap cap_net_raw+ep` writes it. */
const CAP_NET_RAW = '0x0100000200200000000000000000000000000000';
const BIG_UID = 3_000_000; // above ustar's 7 octal digits

function sh(cmd: string, args: string[], input?: Buffer): Buffer {
  return execFileSync(cmd, args, { input, stdio: ['pipe', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
}

async function withTmp(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'kiln-layers-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Mounts a real overlay of `lowers` (top-most first) + upper, runs `fn` on the merged view. */
async function throughOverlay(base: string, lowers: string[], upper: string, fn: (merged: string) => Promise<void>): Promise<void> {
  const work = path.join(base, 'work-' + path.basename(upper));
  const merged = path.join(base, 'merged-' + path.basename(upper));
  await mkdir(work, { recursive: true });
  await mkdir(merged, { recursive: true });
  await mkdir(upper, { recursive: true });
  sh('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${lowers.join(':')},upperdir=${upper},workdir=${work}`, merged]);
  try {
    await fn(merged);
  } finally {
    sh('umount', [merged]);
  }
}

/** A read-only overlay view of `lowers`, for comparing what a stack of layers shows. */
async function viewOf(base: string, lowers: string[], fn: (merged: string) => Promise<void>): Promise<void> {
  const merged = await mkdtemp(path.join(base, 'view-'));
  sh('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${lowers.join(':')}`, merged]);
  try {
    await fn(merged);
  } finally {
    sh('umount', [merged]);
  }
}

interface TarEntry {
  name: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  linkname: string;
  uname: string;
  gname: string;
  devmajor: number;
  devminor: number;
  pax: Record<string, string>;
}

function uncompressed(blob: Buffer): Buffer {
  if (blob[0] === 0x1f && blob[1] === 0x8b) return gunzipSync(blob);
  if (blob.readUInt32LE(0) === 0xfd2fb528) return sh('zstd', ['-dc'], blob);
  return blob;
}

async function readTar(file: string): Promise<TarEntry[]> {
  const extract = tar.extract();
  const out: TarEntry[] = [];
  const done = (async () => {
    for await (const entry of extract) {
      const h = entry.header;
      out.push({
        name: h.name,
        type: h.type ?? 'file',
        mode: h.mode ?? 0,
        uid: h.uid ?? 0,
        gid: h.gid ?? 0,
        size: h.size ?? 0,
        mtime: (h.mtime?.getTime() ?? 0) / 1000,
        linkname: h.linkname ?? '',
        uname: h.uname ?? '',
        gname: h.gname ?? '',
        devmajor: h.devmajor ?? 0,
        devminor: h.devminor ?? 0,
        pax: (h.pax ?? {}) as Record<string, string>,
      });
      entry.resume();
    }
  })();
  extract.end(uncompressed(await readFile(file)));
  await done;
  return out;
}

/** name, type, mode (octal), uid:gid, link target: what the diff tests compare exactly. */
function brief(e: TarEntry): string {
  const link = e.linkname ? ` -> ${e.linkname}` : '';
  const dev = e.type.endsWith('-device') ? ` ${e.devmajor},${e.devminor}` : '';
  // tar-stream applies PAX path/linkpath but leaves PAX uid/gid to us.
  return `${e.name} ${e.type} ${e.mode.toString(8)} ${e.pax.uid ?? e.uid}:${e.pax.gid ?? e.gid}${dev}${link}`;
}

/**
 * Progress arrives through a thread-safe callback, which may run just after the promise settles;
 * waits (briefly) for the final report.
 */
async function lastReport(seen: number[], want: number): Promise<number | undefined> {
  for (let i = 0; i < 100 && seen.at(-1) !== want; i++) await new Promise((r) => setTimeout(r, 5));
  return seen.at(-1);
}

function xattrs(p: string): Record<string, string> {
  const out = sh('getfattr', ['-h', '-d', '-m', '-', '-e', 'hex', '--absolute-names', p]).toString();
  const map: Record<string, string> = {};
  for (const line of out.split('\n')) {
    const m = /^([^#=][^=]*)=(.*)$/.exec(line);
    if (m) map[m[1]!] = m[2]!;
  }
  return map;
}

/**
 * Everything a layer must keep of a tree, one line per path: type, mode, owner, mtime (seconds),
 * content digest, link target, device numbers, xattrs (overlayfs' bookkeeping xattrs other than
 * opaque are left out), and hard-link groups.
 */
async function snapshot(root: string, opts: { dirTimes?: boolean } = {}): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const inodes = new Map<number, string>();
  async function walk(dir: string, rel: string): Promise<void> {
    const names = (await readdir(dir)).sort();
    for (const name of names) {
      const abs = path.join(dir, name);
      const r = rel ? `${rel}/${name}` : name;
      const st = await lstat(abs);
      const x = Object.entries(xattrs(abs))
        .filter(([k]) => !k.startsWith('trusted.overlay.') || k === 'trusted.overlay.opaque')
        .map(([k, v]) => `${k}=${v}`)
        .join(',');
      let kind = '';
      if (st.isFile()) kind = 'file:' + createHash('sha256').update(await readFile(abs)).digest('hex').slice(0, 16);
      else if (st.isDirectory()) kind = 'dir';
      else if (st.isSymbolicLink()) kind = 'symlink:' + (await readlink(abs));
      else if (st.isCharacterDevice()) kind = `char:${st.rdev}`;
      else if (st.isBlockDevice()) kind = `block:${st.rdev}`;
      else if (st.isFIFO()) kind = 'fifo';
      let group = '';
      // overlayfs shares one inode among its whiteouts: that link count is not the tree's.
      const whiteout = st.isCharacterDevice() && st.rdev === 0;
      if (!st.isDirectory() && !whiteout && st.nlink > 1) {
        const first = inodes.get(st.ino);
        if (first === undefined) inodes.set(st.ino, r);
        group = ` linked:${first ?? r}`;
      }
      // A whiteout is a marker: overlay stamps it when the file is deleted, apply when it lands.
      const showTime = !whiteout && (!st.isDirectory() || opts.dirTimes !== false);
      const time = showTime && !st.isSymbolicLink() ? ` t=${Math.floor(st.mtimeMs / 1000)}` : '';
      out.set(r, `${kind} ${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid}${time} [${x}]${group}`);
      if (st.isDirectory()) await walk(abs, r);
    }
  }
  await walk(root, '');
  return out;
}

/** A tree holding every kind of entry and every header feature a layer must carry. */
async function richTree(root: string): Promise<void> {
  await mkdir(path.join(root, 'etc'), { recursive: true });
  await writeFile(path.join(root, 'etc', 'conf'), 'key=value\n');
  await writeFile(path.join(root, 'hello'), 'hello world\n');
  await chown(path.join(root, 'hello'), 1234, 5678); // before chmod: chown clears setuid
  await chmod(path.join(root, 'hello'), 0o4755);
  await link(path.join(root, 'hello'), path.join(root, 'hello-link'));
  await symlink('hello', path.join(root, 'sym'));
  await symlink('/nonexistent/abs', path.join(root, 'dangling'));
  sh('mkfifo', ['-m', '0620', path.join(root, 'pipe')]);
  sh('mknod', ['-m', '0600', path.join(root, 'null'), 'c', '1', '3']);
  sh('mknod', ['-m', '0660', path.join(root, 'loop'), 'b', '7', '9']);
  await writeFile(path.join(root, 'ping'), 'not really ping');
  sh('setfattr', ['-n', 'security.capability', '-v', CAP_NET_RAW, path.join(root, 'ping')]);
  sh('setfattr', ['-n', 'user.note', '-v', 'kept', path.join(root, 'ping')]);
  await mkdir(path.join(root, LONG_DIR));
  await writeFile(path.join(root, LONG_DIR, 'inside-' + 'f'.repeat(40)), 'long');
  await writeFile(path.join(root, UNICODE), 'unicode');
  await writeFile(path.join(root, 'bigid'), 'big uid');
  await chown(path.join(root, 'bigid'), BIG_UID, BIG_UID + 1);
  await writeFile(path.join(root, 'large'), Buffer.alloc(300_000, 7)); // several progress reports
  await mkdir(path.join(root, 'private'), { mode: 0o700 });
  await writeFile(path.join(root, 'private', 'key'), 'secret');
  await utimes(path.join(root, 'private', 'key'), 1_000_000_000, 1_000_000_000);
  await utimes(path.join(root, 'private'), 1_100_000_000, 1_100_000_000);
}

test('overlay diff: exact entries for add, modify, delete, recreated dir, links, devices, xattrs, long and non-ASCII names', async () => {
  await withTmp(async (base) => {
    const lower = path.join(base, 'lower');
    await mkdir(path.join(lower, 'olddir', 'sub'), { recursive: true });
    await writeFile(path.join(lower, 'olddir', 'sub', 'x'), 'x');
    await writeFile(path.join(lower, 'olddir', 'y'), 'y');
    await writeFile(path.join(lower, 'keep'), 'keep');
    await writeFile(path.join(lower, 'mod'), 'v1');
    await writeFile(path.join(lower, 'del'), 'gone soon');
    const upper = path.join(base, 'upper');
    await throughOverlay(base, [lower], upper, async (m) => {
      await appendFile(path.join(m, 'mod'), '+v2');
      await rm(path.join(m, 'del'));
      await rm(path.join(m, 'olddir'), { recursive: true });
      await mkdir(path.join(m, 'olddir'));
      await writeFile(path.join(m, 'olddir', 'new'), 'new');
      await writeFile(path.join(m, 'add'), 'added', { mode: 0o640 });
      await chmod(path.join(m, 'add'), 0o640);
      await chown(path.join(m, 'add'), 1234, 5678);
      sh('setfattr', ['-n', 'user.note', '-v', 'hello', path.join(m, 'add')]);
      sh('setfattr', ['-n', 'security.capability', '-v', CAP_NET_RAW, path.join(m, 'add')]);
      await link(path.join(m, 'add'), path.join(m, 'add-link'));
      await symlink('add', path.join(m, 'sym'));
      sh('mkfifo', ['-m', '0644', path.join(m, 'pipe')]);
      sh('mknod', ['-m', '0666', path.join(m, 'cdev'), 'c', '1', '3']);
      sh('mknod', ['-m', '0660', path.join(m, 'bdev'), 'b', '7', '0']);
      await mkdir(path.join(m, LONG_DIR));
      await writeFile(path.join(m, LONG_DIR, 'f'), 'f');
      await writeFile(path.join(m, UNICODE), 'u');
      await writeFile(path.join(m, 'bigid'), 'b');
      await chown(path.join(m, 'bigid'), BIG_UID, 7);
    });
    const out = path.join(base, 'layer.tar.gz');
    const seen: number[] = [];
    const info = await native.diffLayer({ upper, lowers: [lower], driver: 'overlay', output: out, compression: 'gzip' }, (b) => seen.push(b));
    const entries = await readTar(out);
    // BuildKit's order (a deletion sits at the name it deletes) and its recreated directory: a
    // whiteout for each name it lost below, no opaque marker; the untouched `keep` is absent.
    assert.deepEqual(entries.map(brief), [
      'add file 640 1234:5678',
      'add-link link 640 1234:5678 -> add',
      'bdev block-device 660 0:0 7,0',
      'bigid file 644 3000000:7',
      `${UNICODE} file 644 0:0`,
      'cdev character-device 666 0:0 1,3',
      '.wh.del file 0 0:0',
      `${LONG_DIR}/ directory 755 0:0`,
      `${LONG_DIR}/f file 644 0:0`,
      'mod file 644 0:0',
      'olddir/ directory 755 0:0',
      'olddir/new file 644 0:0',
      'olddir/.wh.sub file 0 0:0',
      'olddir/.wh.y file 0 0:0',
      'pipe fifo 644 0:0',
      'sym symlink 777 0:0 -> add',
    ]);
    const add = entries.find((e) => e.name === 'add')!;
    assert.equal(add.pax['SCHILY.xattr.user.note'], 'hello');
    assert.ok('SCHILY.xattr.security.capability' in add.pax);
    assert.ok(!Object.keys(add.pax).some((k) => k.startsWith('SCHILY.xattr.trusted.overlay')));
    assert.equal(entries.find((e) => e.name.startsWith(LONG_DIR + '/f'))!.pax.path, `${LONG_DIR}/f`);
    assert.equal(entries.find((e) => e.name === UNICODE)!.pax.path, UNICODE);
    assert.equal(entries.find((e) => e.name === 'bigid')!.pax.uid, String(BIG_UID));
    assert.ok(entries.every((e) => e.uname === '' && e.gname === ''), 'user and group names stay empty');
    const raw = uncompressed(await readFile(out)).toString('latin1');
    assert.ok(!/ (atime|ctime)=/.test(raw), 'no atime/ctime PAX records');
    assert.equal(info.entries, 16);
    assert.equal(info.mediaType, 'application/vnd.oci.image.layer.v1.tar+gzip');
    assert.equal(info.digest, 'sha256:' + createHash('sha256').update(await readFile(out)).digest('hex'));
    assert.equal(info.diffId, 'sha256:' + createHash('sha256').update(uncompressed(await readFile(out))).digest('hex'));
    assert.equal(info.size, (await readFile(out)).length);
    assert.equal(await lastReport(seen, info.uncompressedSize), info.uncompressedSize);
    // Independent tools accept the blob.
    sh('gzip', ['-t', out]);
    const listing = sh('tar', ['-tvzf', out]).toString();
    assert.match(listing, /olddir\/\.wh\.sub/);
    assert.deepEqual(
      (await native.layerEntries(out)).filter((e) => ['whiteout', 'opaque', 'hardlink'].includes(e.kind)),
      [
        { path: 'add-link', kind: 'hardlink', size: 0 },
        { path: 'del', kind: 'whiteout', size: 0 },
        { path: 'olddir/sub', kind: 'whiteout', size: 0 },
        { path: 'olddir/y', kind: 'whiteout', size: 0 },
      ],
    );
  });
});

test('overlay round trip: the applied layer over the same lower shows the same merged view', async () => {
  await withTmp(async (base) => {
    const lower = path.join(base, 'lower');
    await richTree(lower);
    await mkdir(path.join(lower, 'replaced', 'deep'), { recursive: true });
    await writeFile(path.join(lower, 'replaced', 'deep', 'old'), 'old');
    const upper = path.join(base, 'upper');
    await throughOverlay(base, [lower], upper, async (m) => {
      await rm(path.join(m, 'hello'));
      await rm(path.join(m, 'replaced'), { recursive: true });
      await mkdir(path.join(m, 'replaced'));
      await writeFile(path.join(m, 'replaced', 'fresh'), 'fresh');
      await writeFile(path.join(m, 'etc', 'conf'), 'changed\n');
      await richTree(path.join(m, 'nested'));
    });
    const out = path.join(base, 'layer.tar.zst');
    const info = await native.diffLayer({ upper, lowers: [lower], driver: 'overlay', output: out, compression: 'zstd' });
    sh('zstd', ['-t', '-q', out]);
    assert.equal(info.mediaType, 'application/vnd.oci.image.layer.v1.tar+zstd');
    const applied = path.join(base, 'applied');
    await mkdir(applied);
    const seen: number[] = [];
    const res = await native.applyLayer({ layer: out, target: applied, driver: 'overlay' }, (b) => seen.push(b));
    assert.equal(res.diffId, info.diffId);
    assert.equal(res.entries, info.entries);
    assert.equal(await lastReport(seen, info.size), info.size, 'apply progress ends at the layer file size');
    const views: Map<string, string>[] = [];
    for (const top of [upper, applied]) await viewOf(base, [top, lower], async (v) => void views.push(await snapshot(v)));
    assert.ok(!views[0]!.has('hello') && views[0]!.has('replaced/fresh') && !views[0]!.has('replaced/deep'));
    assert.deepEqual(views[1], views[0]);
  });
});

test('copy driver diff: exact changes against the parent tree, parents of changes included', async () => {
  await withTmp(async (base) => {
    const parent = path.join(base, 'parent');
    await mkdir(path.join(parent, 'deep', 'sub'), { recursive: true });
    await mkdir(path.join(parent, 'gonedir'));
    await mkdir(path.join(parent, 'dir2file'));
    await mkdir(path.join(parent, 'same'));
    for (const f of ['a.txt', 'b.txt', 'gone.txt', 'file2dir', 'gonedir/f', 'dir2file/f', 'deep/sub/keep.txt', 'deep/sub/change.txt', 'same/s.txt']) {
      await writeFile(path.join(parent, f), `content of ${f}`);
    }
    const next = path.join(base, 'next');
    sh('cp', ['-a', parent, next]);
    await writeFile(path.join(next, 'b.txt'), 'a longer, different content');
    await rm(path.join(next, 'gone.txt'));
    await rm(path.join(next, 'gonedir'), { recursive: true });
    await rm(path.join(next, 'dir2file'), { recursive: true });
    await writeFile(path.join(next, 'dir2file'), 'now a file');
    await rm(path.join(next, 'file2dir'));
    await mkdir(path.join(next, 'file2dir'));
    await writeFile(path.join(next, 'file2dir', 'inner'), 'inner');
    await writeFile(path.join(next, 'deep', 'sub', 'change.txt'), 'CONTENT OF DEEP/SUB/CHANGE.TXT'); // in place: dirs keep their mtime
    await chmod(path.join(next, 'a.txt'), 0o600);
    await writeFile(path.join(next, 'new.txt'), 'new');
    const out = path.join(base, 'layer.tar');
    const info = await native.diffLayer({ upper: next, lowers: [parent], driver: 'copy', output: out, compression: 'none' });
    assert.deepEqual((await readTar(out)).map((e) => `${e.name} ${e.type}`), [
      'a.txt file',
      'b.txt file',
      'deep/ directory',
      'deep/sub/ directory',
      'deep/sub/change.txt file',
      'dir2file file',
      'file2dir/ directory',
      'file2dir/inner file',
      '.wh.gone.txt file',
      '.wh.gonedir file',
      'new.txt file',
    ]);
    assert.equal(info.digest, info.diffId, 'an uncompressed blob is its own diff');
    // Applying the diff onto a copy of the parent reproduces the new tree.
    const rebuilt = path.join(base, 'rebuilt');
    sh('cp', ['-a', parent, rebuilt]);
    await native.applyLayer({ layer: out, target: rebuilt, driver: 'copy' });
    assert.deepEqual(await snapshot(rebuilt), await snapshot(next));
  });
});

test('copy round trip from scratch keeps content, modes, owners, links, devices and xattrs', async () => {
  await withTmp(async (base) => {
    const tree = path.join(base, 'tree');
    await richTree(tree);
    for (const compression of ['gzip', 'zstd', 'none'] as const) {
      const out = path.join(base, `layer-${compression}`);
      const info = await native.diffLayer({ upper: tree, driver: 'copy', output: out, compression });
      const target = path.join(base, `applied-${compression}`);
      await mkdir(target);
      const res = await native.applyLayer({ layer: out, target, driver: 'copy' });
      assert.equal(res.diffId, info.diffId);
      const want = await snapshot(tree);
      assert.deepEqual(await snapshot(target), want);
      assert.match(want.get('ping')!, /security.capability=0x0100000200200000/, 'the fixture really has a capability');
      assert.match(want.get('hello-link')!, /linked:hello/);
    }
  });
});

test('copy apply: opaque dirs are emptied and whiteouts delete, but entries of the same layer stay', async () => {
  await withTmp(async (base) => {
    const target = path.join(base, 'target');
    await mkdir(path.join(target, 'd', 'old'), { recursive: true });
    await writeFile(path.join(target, 'd', 'old', 'f'), 'f');
    await writeFile(path.join(target, 'gone'), 'g');
    const layer = path.join(base, 'l.tar');
    await writeFile(layer, await packTar([
      { name: 'd/', type: 'directory', mode: 0o755 },
      { name: 'd/kept', content: 'kept' },
      { name: 'd/.wh..wh..opq' },
      { name: '.wh.gone' },
    ]));
    await native.applyLayer({ layer, target, driver: 'copy' });
    assert.deepEqual((await readdir(path.join(target, 'd'))).sort(), ['kept']);
    await assert.rejects(access(path.join(target, 'gone')));
  });
});

test('determinism: same tree twice gives the same digest; SOURCE_DATE_EPOCH hides mtime differences', async () => {
  await withTmp(async (base) => {
    const one = path.join(base, 'one');
    await richTree(one);
    const two = path.join(base, 'two');
    sh('cp', ['-a', one, two]);
    sh('touch', ['-h', '-d', '2031-01-02 03:04:05', ...['hello', 'etc', 'etc/conf', 'sym'].map((p) => path.join(two, p))]);
    const diff = (upper: string, name: string, sourceDateEpoch?: number): Promise<LayerInfo> =>
      native.diffLayer({ upper, driver: 'copy', output: path.join(base, name), compression: 'gzip', sourceDateEpoch });
    const a1 = await diff(one, 'a1');
    const a2 = await diff(one, 'a2');
    assert.equal(a1.digest, a2.digest);
    assert.equal(a1.diffId, a2.diffId);
    const b = await diff(two, 'b');
    assert.notEqual(b.diffId, a1.diffId, 'mtimes differ without an epoch');
    const epoch = 1_600_000_000;
    const e1 = await diff(one, 'e1', epoch);
    const e2 = await diff(two, 'e2', epoch);
    assert.equal(e1.digest, e2.digest);
    const times = (await readTar(path.join(base, 'e1'))).map((e) => e.mtime);
    assert.ok(times.every((t) => t <= epoch) && times.includes(1_000_000_000), 'mtimes are min(mtime, epoch)');
  });
});

interface PackEntry {
  name: string;
  type?: tar.Header['type'];
  linkname?: string;
  mode?: number;
  content?: string;
}

async function packTar(entries: PackEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const collected = (async () => {
    for await (const c of pack) chunks.push(c as Buffer);
  })();
  for (const e of entries) {
    const { content, ...header } = e;
    pack.entry({ mode: 0o644, ...header }, content ?? '');
  }
  pack.finalize();
  await collected;
  return Buffer.concat(chunks);
}

test('apply refuses every way out of the target and names the layer and the entry', async () => {
  await withTmp(async (base) => {
    const outside = path.join(base, 'outside');
    await mkdir(outside);
    await writeFile(path.join(outside, 'victim'), 'untouched');
    const digest = 'sha256:' + 'ab'.repeat(32);
    const cases: { why: string; entries: PackEntry[]; entry: string; reason: RegExp }[] = [
      { why: 'dot-dot', entries: [{ name: '../outside/evil', content: 'x' }], entry: '../outside/evil', reason: /climbs out/ },
      { why: 'dot-dot after a dir', entries: [{ name: 'a/../../outside/evil', content: 'x' }], entry: 'a/../../outside/evil', reason: /climbs out/ },
      {
        why: 'symlink parent pointing outside',
        entries: [{ name: 'link', type: 'symlink', linkname: outside }, { name: 'link/evil', content: 'x' }],
        entry: 'link/evil',
        reason: /parent "link" is a symlink/,
      },
      {
        why: 'relative symlink parent climbing out',
        entries: [{ name: 'up', type: 'symlink', linkname: '../outside' }, { name: 'up/victim', content: 'x' }],
        entry: 'up/victim',
        reason: /is a symlink/,
      },
      {
        why: 'file replaced by a symlink, then used as a parent',
        entries: [
          { name: 'x', content: 'plain' },
          { name: 'x', type: 'symlink', linkname: outside },
          { name: 'x/evil', content: 'x' },
        ],
        entry: 'x/evil',
        reason: /is a symlink/,
      },
      {
        why: 'hard link escaping',
        entries: [{ name: 'hl', type: 'link', linkname: '../outside/victim' }],
        entry: 'hl',
        reason: /hard link target .*climbs out/,
      },
      {
        why: 'hard link through a symlink',
        entries: [{ name: 's', type: 'symlink', linkname: outside }, { name: 'hl', type: 'link', linkname: 's/victim' }],
        entry: 'hl',
        reason: /hard link target "s\/victim": parent "s" is a symlink/,
      },
    ];
    for (const c of cases) {
      const target = path.join(base, 'target');
      await rm(target, { recursive: true, force: true });
      await mkdir(target);
      const layer = path.join(base, 'evil.tar');
      await writeFile(layer, await packTar(c.entries));
      for (const driver of ['overlay', 'copy'] as const) {
        await assert.rejects(native.applyLayer({ layer, target, driver, layerDigest: digest }), (err: Error) => {
          assert.ok(err.message.startsWith(`layer ${digest}: entry "${c.entry}": `), `${c.why}: ${err.message}`);
          assert.match(err.message, c.reason, c.why);
          return true;
        });
      }
      assert.deepEqual(await readdir(outside), ['victim'], c.why);
      assert.equal(await readFile(path.join(outside, 'victim'), 'utf8'), 'untouched', c.why);
    }
    // Without a digest the layer file names the layer.
    const layer = path.join(base, 'evil.tar');
    await writeFile(layer, await packTar([{ name: '../evil', content: 'x' }]));
    await assert.rejects(native.applyLayer({ layer, target: base, driver: 'copy' }), { message: new RegExp(`^layer ${layer}: entry "../evil": `) });
  });
});

test('apply keeps absolute names inside the target (as Docker does) and replaces a symlink instead of writing through it', async () => {
  await withTmp(async (base) => {
    const outside = path.join(base, 'outside');
    await mkdir(outside);
    await writeFile(path.join(outside, 'victim'), 'untouched');
    const target = path.join(base, 'target');
    await mkdir(target);
    const layer = path.join(base, 'l.tar');
    await writeFile(layer, await packTar([
      { name: '/abs/file', content: 'inside' },
      { name: 'victim', type: 'symlink', linkname: path.join(outside, 'victim') },
      { name: 'victim', content: 'replaced' },
    ]));
    await native.applyLayer({ layer, target, driver: 'copy' });
    assert.equal(await readFile(path.join(target, 'abs', 'file'), 'utf8'), 'inside');
    assert.ok((await lstat(path.join(target, 'victim'))).isFile());
    assert.equal(await readFile(path.join(outside, 'victim'), 'utf8'), 'untouched');
  });
});

test('compressLayer: a plain tar becomes a gzip/zstd blob with the right digests; bad input leaves nothing', async () => {
  await withTmp(async (base) => {
    const input = path.join(base, 'in.tar');
    const plain = await packTar([
      { name: 'dir/', type: 'directory', mode: 0o755 },
      { name: 'dir/file', content: 'x'.repeat(100_000) },
      { name: 'dir/sym', type: 'symlink', linkname: 'file' },
    ]);
    await writeFile(input, plain);
    const diffId = 'sha256:' + createHash('sha256').update(plain).digest('hex');
    for (const compression of ['gzip', 'zstd', 'none'] as const) {
      const output = path.join(base, `out-${compression}`);
      const seen: number[] = [];
      const info = await native.compressLayer({ input, output, compression }, (b) => seen.push(b));
      const blob = await readFile(output);
      assert.equal(info.diffId, diffId);
      assert.equal(info.digest, 'sha256:' + createHash('sha256').update(blob).digest('hex'));
      assert.equal(info.size, blob.length);
      assert.equal(info.uncompressedSize, plain.length);
      assert.equal(info.entries, 3);
      assert.equal(await lastReport(seen, plain.length), plain.length);
      assert.ok(uncompressed(blob).equals(plain));
      if (compression === 'gzip') sh('gzip', ['-t', output]);
      if (compression === 'zstd') sh('zstd', ['-t', '-q', output]);
      assert.deepEqual(await native.layerEntries(output), [
        { path: 'dir', kind: 'dir', size: 0 },
        { path: 'dir/file', kind: 'file', size: 100_000 },
        { path: 'dir/sym', kind: 'symlink', size: 0 },
      ]);
    }
    const garbage = path.join(base, 'garbage');
    await writeFile(garbage, Buffer.alloc(4096, 0x41));
    await assert.rejects(native.compressLayer({ input: garbage, output: path.join(base, 'never'), compression: 'gzip' }), /compress of .*garbage: reading tar/);
    assert.deepEqual((await readdir(base)).filter((n) => n.includes('never')), [], 'no final or temp file is left');
  });
});
