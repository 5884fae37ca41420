// The addon's sha256Files and applyCopyPlan (native/src/hash.rs, native/src/copy_plan.rs) on real
// files: what lands on disk, with which metadata, and what happens to what was already there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { lstatSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { native, type CopyPlanOp } from '../../native/binding.js';

async function scratch(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'kiln-copy-plan-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const T = 1_600_000_000_123.25; // ms with a sub-second part
function op(kind: CopyPlanOp['kind'], to: string, extra: Partial<CopyPlanOp> = {}): CopyPlanOp {
  return { kind, to, mode: kind === 'dir' ? 0o755 : 0o644, uid: 0, gid: 0, atimeMs: T, mtimeMs: T, ...extra };
}

// ---- sha256Files --------------------------------------------------------------------------

test('sha256Files returns each file digest in the order given', async (t) => {
  const dir = await scratch(t);
  // Sizes differ wildly so parallel hashing finishes out of order; many files so it runs wide.
  const datas = [Buffer.alloc(0), randomBytes(3 * 1024 * 1024 + 5), Buffer.from('abc'), ...Array.from({ length: 100 }, (_, i) => randomBytes(i * 97))];
  const paths = datas.map((_, i) => path.join(dir, `f${i}`));
  await Promise.all(datas.map((d, i) => writeFile(paths[i]!, d)));
  const got = await native.sha256Files(paths);
  assert.deepEqual(got, datas.map((d) => 'sha256:' + createHash('sha256').update(d).digest('hex')));
  assert.equal(got[2], 'sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
});

test('sha256Files rejects naming a missing file, and hashes an empty list to []', async (t) => {
  const dir = await scratch(t);
  await writeFile(path.join(dir, 'ok'), 'x');
  const missing = path.join(dir, 'missing');
  await assert.rejects(native.sha256Files([path.join(dir, 'ok'), missing]), (e: Error) => e.message.includes(missing));
  assert.deepEqual(await native.sha256Files([]), []);
});

// ---- applyCopyPlan ------------------------------------------------------------------------

test('applyCopyPlan creates the tree with exact modes, owners and sub-second times', async (t) => {
  const dir = await scratch(t);
  const src = path.join(dir, 'src');
  await writeFile(src, 'hello');
  const out = path.join(dir, 'out');
  const oldUmask = process.umask(0o077); // must not matter: modes are set, not requested at create
  let n: number;
  try {
    n = await native.applyCopyPlan({
      root: dir,
      replace: false,
      ops: [
        op('dir', out, { mode: 0o777, uid: 11, gid: 12, mtimeMs: T - 5000 }),
        op('dir', path.join(out, 'sub'), { mode: 0o1775 }),
        // set-uid and set-gid with a non-root owner: chown after chmod would clear them.
        op('file', path.join(out, 'sub/f'), { from: src, size: 5, mode: 0o6755, uid: 1234, gid: 2345 }),
        op('file', path.join(out, 'open'), { from: src, size: 5, mode: 0o666 }),
        op('symlink', path.join(out, 'sub/l'), { linkTarget: '../nowhere', uid: 7, gid: 8 }),
      ],
    });
  } finally {
    process.umask(oldUmask);
  }
  assert.equal(n, 5);
  assert.equal(await readFile(path.join(out, 'sub/f'), 'utf8'), 'hello');
  const f = lstatSync(path.join(out, 'sub/f'));
  assert.equal(f.mode & 0o7777, 0o6755, 'set-id bits survive the chown');
  assert.deepEqual([f.uid, f.gid], [1234, 2345]);
  assert.equal(lstatSync(path.join(out, 'open')).mode & 0o7777, 0o666, 'umask 077 not applied');
  assert.equal(lstatSync(out).mode & 0o7777, 0o777, 'umask 077 not applied to a dir');
  assert.equal(lstatSync(path.join(out, 'sub')).mode & 0o7777, 0o1775);
  assert.deepEqual([lstatSync(out).uid, lstatSync(out).gid], [11, 12]);
  assert.equal(await readlink(path.join(out, 'sub/l')), '../nowhere');
  assert.deepEqual([lstatSync(path.join(out, 'sub/l')).uid, lstatSync(path.join(out, 'sub/l')).gid], [7, 8], 'lchown, not chown of the target');

  // Times: T has .25 ms; a whole-second or whole-ms truncation would be off by >= 250 µs. A
  // double of ms cannot hold every ns at this epoch, so allow 1 µs.
  const near = (p: string, ms: number) => {
    const ns = lstatSync(p, { bigint: true }).mtimeNs;
    const want = BigInt(Math.round(ms * 1000)) * 1000n;
    assert.ok(ns - want < 1000n && want - ns < 1000n, `${p}: mtime ${ns} ns, want ${want}`);
  };
  near(path.join(out, 'sub/f'), T);
  near(path.join(out, 'sub/l'), T);
  // Directory times are set after their contents were written into them.
  near(path.join(out, 'sub'), T);
  near(out, T - 5000);
});

test('applyCopyPlan copies a scanned mtimeMs so that lstat reads back the same mtimeMs', async (t) => {
  // What a later scan compares against: a file copied with its source's mtimeMs must not drift.
  const dir = await scratch(t);
  const ops: CopyPlanOp[] = [];
  for (let i = 0; i < 50; i++) {
    const from = path.join(dir, `s${i}`);
    await writeFile(from, String(i));
    const st = lstatSync(from);
    ops.push(op('file', path.join(dir, `d${i}`), { from, size: st.size, atimeMs: st.atimeMs, mtimeMs: st.mtimeMs }));
  }
  // Before 1970 too: the seconds round down, the nanoseconds stay positive.
  ops.push(op('file', path.join(dir, 'old'), { from: path.join(dir, 's0'), size: 1, atimeMs: -1500.5, mtimeMs: -1500.5 }));
  await native.applyCopyPlan({ root: dir, ops, replace: false });
  for (const o of ops) assert.equal(lstatSync(o.to).mtimeMs, o.mtimeMs, o.to);
});

test('an existing directory is kept, its contents added, and it takes the planned mode, owner and times last', async (t) => {
  const dir = await scratch(t);
  const keep = path.join(dir, 'keep');
  await mkdir(keep, { mode: 0o700 });
  await writeFile(path.join(keep, 'old'), 'o');
  await writeFile(path.join(dir, 'src'), 'x');
  await native.applyCopyPlan({
    root: dir,
    replace: false,
    ops: [op('dir', keep, { mode: 0o1777, uid: 5, gid: 6 }), op('file', path.join(keep, 'f'), { from: path.join(dir, 'src'), size: 1 })],
  });
  const after = lstatSync(keep);
  assert.equal(after.mode & 0o7777, 0o1777);
  assert.deepEqual([after.uid, after.gid], [5, 6]);
  assert.equal(after.mtimeMs, T, 'the time is set after the new file moved it');
  assert.equal(await readFile(path.join(keep, 'f'), 'utf8'), 'x');
  assert.equal(await readFile(path.join(keep, 'old'), 'utf8'), 'o', 'the directory was not recreated');
});

test('a file where a directory exists fails unless replace, naming the path from the root', async (t) => {
  const dir = await scratch(t);
  await mkdir(path.join(dir, 'x'));
  await writeFile(path.join(dir, 'x/inside'), 'old');
  await writeFile(path.join(dir, 'src'), 'new');
  const plan = { root: dir, ops: [op('file', path.join(dir, 'x'), { from: path.join(dir, 'src'), size: 3 })] };
  await assert.rejects(native.applyCopyPlan({ ...plan, replace: false }), { message: 'cannot overwrite directory /x with a non-directory' });
  assert.equal(await readFile(path.join(dir, 'x/inside'), 'utf8'), 'old', 'nothing removed on refusal');
  await native.applyCopyPlan({ ...plan, replace: true });
  assert.equal(await readFile(path.join(dir, 'x'), 'utf8'), 'new');
});

test('a directory where a file exists fails unless replace', async (t) => {
  const dir = await scratch(t);
  await mkdir(path.join(dir, 'a'));
  await writeFile(path.join(dir, 'a/y'), 'old file');
  const plan = { root: dir, ops: [op('dir', path.join(dir, 'a/y'), { mode: 0o750 })] };
  await assert.rejects(native.applyCopyPlan({ ...plan, replace: false }), { message: 'cannot overwrite non-directory /a/y with a directory' });
  assert.equal(await readFile(path.join(dir, 'a/y'), 'utf8'), 'old file');
  await native.applyCopyPlan({ ...plan, replace: true });
  assert.ok(lstatSync(path.join(dir, 'a/y')).isDirectory());
  assert.equal(lstatSync(path.join(dir, 'a/y')).mode & 0o7777, 0o750);
});

test('a symlink at a planned path is never written through, even when it points outside the root', async (t) => {
  const dir = await scratch(t);
  const root = path.join(dir, 'root');
  const outside = path.join(dir, 'outside');
  await mkdir(root);
  await mkdir(outside, { mode: 0o700 });
  await writeFile(path.join(dir, 'outside-file'), 'precious');
  await writeFile(path.join(dir, 'src'), 'payload');
  await symlink(outside, path.join(root, 'd'));
  await symlink(path.join(dir, 'outside-file'), path.join(root, 'f'));
  const src = path.join(dir, 'src');
  const ops = [
    op('dir', path.join(root, 'd'), { mode: 0o777, uid: 99, gid: 99 }),
    op('file', path.join(root, 'd/planted'), { from: src, size: 7 }),
    op('file', path.join(root, 'f'), { from: src, size: 7, mode: 0o600 }),
  ];
  const untouched = () => {
    assert.deepEqual(readdirSync(outside), [], 'nothing written into the symlinked directory');
    const st = lstatSync(outside);
    assert.equal(st.mode & 0o7777, 0o700, 'outside dir not chmod-ed');
    assert.equal(st.uid, 0, 'outside dir not chown-ed');
  };

  await assert.rejects(native.applyCopyPlan({ root, ops, replace: false }), { message: 'cannot overwrite non-directory /d with a directory' });
  untouched();
  assert.ok(lstatSync(path.join(root, 'd')).isSymbolicLink(), 'left as it was on refusal');

  await native.applyCopyPlan({ root, ops, replace: true });
  untouched();
  assert.equal(await readFile(path.join(dir, 'outside-file'), 'utf8'), 'precious', 'file symlink replaced, not written through');
  assert.ok(lstatSync(path.join(root, 'd')).isDirectory(), 'the symlink became a real directory');
  assert.equal(lstatSync(path.join(root, 'd')).mode & 0o7777, 0o777);
  assert.equal(await readFile(path.join(root, 'd/planted'), 'utf8'), 'payload');
  assert.ok(lstatSync(path.join(root, 'f')).isFile());
  assert.equal(await readFile(path.join(root, 'f'), 'utf8'), 'payload');
});
