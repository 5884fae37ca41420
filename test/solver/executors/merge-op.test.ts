// The merge op over real overlay snapshots: inputs built on scratch laid over a base in order,
// with modes, owners, symlinks and hard links kept, and the result one new layer on the base.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, chown, lchown, link, lstat, readdir, readlink, utimes } from 'node:fs/promises';
import path from 'node:path';
import { native } from '../../../native/binding.js';
import type { Op } from '../../../solver/llb/types.js';
import { executorFor } from '../../../solver/executors/index.js';
import { listTree, openFixture, snapshotOf, vertex, withView, writeTree, type Fixture } from './fixture.js';

async function runMerge(fx: Fixture, snapshots: (string | null)[]): Promise<string> {
  const op: Op = {
    inputs: snapshots.map((_s, i) => ({ digest: `sha256:${String(i).repeat(64)}` })),
    merge: { inputs: snapshots.map((_s, i) => ({ input: i })) },
  };
  const [res] = await executorFor(op).run(vertex(op, '[2/2] LINK COPY'), snapshots.map((snapshot) => ({ snapshot })), fx.env, () => undefined);
  return res!.snapshot!;
}

/** A committed snapshot on scratch, with `prepare` run on its tree before the commit. */
async function scratchInput(fx: Fixture, files: Parameters<typeof snapshotOf>[1], prepare: (dir: string) => Promise<void>): Promise<string> {
  const key = `in-${Math.random().toString(16).slice(2)}`;
  await fx.snapshotter.prepare(`${key}-rw`);
  const m = await fx.snapshotter.mount(`${key}-rw`);
  try {
    await writeTree(m.dir, files);
    await prepare(m.dir);
  } finally {
    await m.release();
  }
  await fx.snapshotter.commit(key, `${key}-rw`);
  return key;
}

test('later inputs are laid over the base in order; modes, owners, links and hard links are kept', async () => {
  const fx = await openFixture();
  try {
    const base = await snapshotOf(fx, {
      'etc/passwd': 'root:x:0:0\n', keep: 'base', replace: 'old', 'wasdir/inner': 'gone', 'app/from-base': 'b', 'app/over': 'base',
    });
    const when = new Date('2010-01-02T03:04:05Z');
    const first = await scratchInput(fx, {
      'app/over': { file: 'first', mode: 0o640 },
      'app/tool': { file: '#!/bin/sh\n', mode: 0o4755, uid: 1000 },
      replace: 'new', wasdir: 'now a file', 'bin/sh-link': { link: '../app/tool' },
    }, async (dir) => {
      // chown (in writeTree) clears the setuid bit, so it is set here, after.
      await chmod(path.join(dir, 'app/tool'), 0o4755);
      await chmod(path.join(dir, 'app'), 0o750);
      await chown(path.join(dir, 'app'), 7, 8);
      await link(path.join(dir, 'app/tool'), path.join(dir, 'app/tool-hard'));
      await lchown(path.join(dir, 'bin/sh-link'), 3, 4);
      await utimes(path.join(dir, 'app/tool'), when, when);
      await utimes(path.join(dir, 'app'), when, when);
    });
    const second = await snapshotOf(fx, { replace: { file: 'second', mode: 0o600 } });

    const merged = await runMerge(fx, [base, first, null, second]);
    await withView(fx, merged, async (dir) => {
      assert.deepEqual(await listTree(dir), {
        app: '/', 'app/from-base': 'b', 'app/over': 'first', 'app/tool': '#!/bin/sh\n', 'app/tool-hard': '#!/bin/sh\n',
        bin: '/', 'bin/sh-link': '-> ../app/tool',
        etc: '/', 'etc/passwd': 'root:x:0:0\n', keep: 'base', replace: 'second', wasdir: 'now a file',
      });
      const tool = await lstat(path.join(dir, 'app/tool'));
      assert.deepEqual([tool.mode & 0o7777, tool.uid, tool.mtimeMs], [0o4755, 1000, when.getTime()]);
      assert.equal((await lstat(path.join(dir, 'app/tool-hard'))).ino, tool.ino, 'hard links stay linked');
      const sym = await lstat(path.join(dir, 'bin/sh-link'));
      assert.deepEqual([sym.isSymbolicLink(), sym.uid, sym.gid], [true, 3, 4]);
      assert.equal(await readlink(path.join(dir, 'bin/sh-link')), '../app/tool');
      // A directory on both sides takes the later input's metadata, as a layer entry would.
      const app = await lstat(path.join(dir, 'app'));
      assert.deepEqual([app.mode & 0o7777, app.uid, app.gid, app.mtimeMs], [0o750, 7, 8, when.getTime()]);
      assert.equal((await lstat(path.join(dir, 'app/over'))).mode & 0o7777, 0o640);
      assert.equal((await lstat(path.join(dir, 'replace'))).mode & 0o7777, 0o600, 'the last input wins a path');
      assert.deepEqual((await readdir(dir)).filter((n) => n.startsWith('.kiln-merge')), [], 'no staging dir is left');
    });

    // The result is one new layer on the base: its own layer holds the merged inputs, not the base's files.
    const info = await fx.snapshotter.stat(merged);
    assert.equal(info?.parent, base);
    const own = await readdir(fx.snapshotter.upperDir(merged));
    assert.ok(own.includes('app') && own.includes('replace') && !own.includes('keep') && !own.includes('etc'), `own layer: ${own.join(', ')}`);
    const layer = await native.diffLayer({ upper: fx.snapshotter.upperDir(merged), driver: 'overlay', output: path.join(fx.root, 'merged.tar'), compression: 'none' });
    const entries = await native.layerEntries(path.join(fx.root, 'merged.tar'));
    assert.ok(layer.entries > 0);
    assert.deepEqual(entries.filter((e) => e.kind === 'opaque' || e.kind === 'whiteout'), [], 'new directories carry no opaque marker');
    assert.ok(entries.some((e) => e.path.replace(/\/$/, '') === 'bin/sh-link'));
  } finally {
    await fx.cleanup();
  }
});

test('a merge onto scratch holds just the later inputs; the inputs stay unchanged', async () => {
  const fx = await openFixture();
  try {
    const a = await snapshotOf(fx, { 'a/x': 'A' });
    const b = await snapshotOf(fx, { 'a/y': 'B', 'b': 'B' });
    const merged = await runMerge(fx, [null, a, b]);
    await withView(fx, merged, async (dir) => assert.deepEqual(await listTree(dir), { a: '/', 'a/x': 'A', 'a/y': 'B', b: 'B' }));
    await withView(fx, a, async (dir) => assert.deepEqual(await listTree(dir), { a: '/', 'a/x': 'A' }));
  } finally {
    await fx.cleanup();
  }
});
