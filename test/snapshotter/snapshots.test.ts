// Snapshots on real overlay mounts and real copies: the same behaviour table runs over both
// drivers; overlay-only cases (whiteouts, mount options, deep chains, the auto probe) follow.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { lstat, mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { native } from '../../native/binding.js';
import type { SnapshotDriver, Snapshotter } from '../../snapshotter/snapshots.js';
import { openSnapshotter } from '../../snapshotter/open-snapshotter.js';
import {
  SnapshotBusyError,
  SnapshotDriverMismatchError,
  SnapshotExistsError,
  SnapshotHasChildrenError,
  SnapshotKindError,
  SnapshotNotFoundError,
} from '../../snapshotter/errors.js';
import { mountsUnder } from '../helpers/mountinfo.js';

const drivers: SnapshotDriver[] = ['overlay', 'copy'];

/** Opens a fresh store, runs `body`, then proves no mount is left under it before deleting it. */
async function withStore(
  driver: SnapshotDriver,
  body: (s: Snapshotter, root: string) => Promise<void>,
  root?: string,
): Promise<void> {
  const dir = root ?? (await mkdtemp(path.join(tmpdir(), `kiln-snap-${driver}-`)));
  try {
    const s = await openSnapshotter(dir, { driver });
    assert.equal(s.driver, driver);
    await body(s, dir);
    assert.deepEqual((await mountsUnder(dir)).map((m) => m.mountPoint), [], 'no mount may outlive the test');
  } finally {
    for (const m of (await mountsUnder(dir)).reverse()) await native.unmount(m.mountPoint, { detach: true }).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}

async function put(dir: string, rel: string, content: string): Promise<void> {
  await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
  await writeFile(path.join(dir, rel), content);
}

/** Every regular file below `dir` with its content, by relative path. */
async function tree(dir: string, prefix = ''): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const e of (await readdir(path.join(dir, prefix), { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) Object.assign(out, await tree(dir, rel));
    else if (e.isFile()) out[rel] = await readFile(path.join(dir, rel), 'utf8');
  }
  return out;
}

/** Writes through a mount of `key`, then releases it. */
async function edit(s: Snapshotter, key: string, fn: (dir: string) => Promise<void>): Promise<void> {
  const m = await s.mount(key);
  try {
    await fn(m.dir);
  } finally {
    await m.release();
  }
}

for (const driver of drivers) {
  test(`${driver}: a three-level chain shows every level's files, the upper one wins, deletions hide lower files`, () =>
    withStore(driver, async (s) => {
      await s.prepare('l1', undefined, { labels: { level: 'one' } });
      await edit(s, 'l1', async (d) => {
        await put(d, 'a', '1a');
        await put(d, 'b', '1b');
        await put(d, 'dir/x', '1x');
      });
      await s.commit('c1', 'l1');
      await s.prepare('l2', 'c1');
      await edit(s, 'l2', async (d) => {
        assert.equal(await readFile(path.join(d, 'a'), 'utf8'), '1a', 'a child sees its parent');
        await put(d, 'b', '2b');
        await put(d, 'c', '2c');
        await rm(path.join(d, 'a'));
      });
      await s.commit('c2', 'l2', { labels: { level: 'two' } });
      await s.prepare('l3', 'c2');
      await edit(s, 'l3', (d) => put(d, 'd', '3d'));
      await s.commit('c3', 'l3');
      const expected = { b: '2b', c: '2c', d: '3d', 'dir/x': '1x' };

      await s.view('v', 'c3');
      const m = await s.mount('v');
      try {
        assert.deepEqual(await tree(m.dir), expected);
        if (driver === 'overlay') await assert.rejects(writeFile(path.join(m.dir, 'new'), 'x'), { code: 'EROFS' });
      } finally {
        await m.release();
      }
      await m.release(); // twice is harmless

      assert.deepEqual((await s.list()).map((i) => [i.key, i.kind, i.parent]), [
        ['c1', 'committed', undefined],
        ['c2', 'committed', 'c1'],
        ['c3', 'committed', 'c2'],
        ['v', 'view', 'c3'],
      ]);
      assert.deepEqual((await s.stat('c1'))?.labels, { level: 'one' }, 'commit keeps the active labels');
      assert.deepEqual((await s.stat('c2'))?.labels, { level: 'two' }, 'commit labels replace them');
      assert.equal(await s.stat('l1'), undefined, 'the active key is gone after commit');

      const parents = s.parentDirs('v');
      assert.deepEqual(parents, [s.upperDir('c3'), s.upperDir('c2'), s.upperDir('c1')]);
      if (driver === 'overlay') {
        assert.deepEqual(await tree(s.upperDir('c3')), { d: '3d' }, 'an overlay layer holds only its own changes');
        const wh = await lstat(path.join(s.upperDir('c2'), 'a'));
        assert.ok(wh.isCharacterDevice() && wh.rdev === 0, 'a deletion is a 0/0 whiteout in the layer');
      } else {
        assert.deepEqual(await tree(s.upperDir('c3')), expected, 'a copy snapshot holds the full tree');
      }
    }));

  test(`${driver}: a write in one active snapshot shows in neither its sibling nor its parent`, () =>
    withStore(driver, async (s) => {
      await s.prepare('base');
      await edit(s, 'base', (d) => put(d, 'shared', 'base'));
      await s.commit('c', 'base');
      await s.prepare('left', 'c');
      await s.prepare('right', 'c');
      const left = await s.mount('left');
      const right = await s.mount('right');
      try {
        await put(left.dir, 'shared', 'left');
        await put(left.dir, 'only-left', 'l');
        assert.deepEqual(await tree(right.dir), { shared: 'base' });
        assert.deepEqual(await tree(left.dir), { 'only-left': 'l', shared: 'left' });
      } finally {
        await left.release();
        await right.release();
      }
      await s.view('look', 'c');
      await edit(s, 'look', async (d) => assert.deepEqual(await tree(d), { shared: 'base' }));
    }));

  test(`${driver}: remove refuses a parent with children and a mounted snapshot, then removes both`, () =>
    withStore(driver, async (s) => {
      await s.prepare('p');
      await s.commit('parent', 'p');
      await s.prepare('child', 'parent');
      const parentDir = s.upperDir('parent');
      const childDir = s.upperDir('child');
      await assert.rejects(s.remove('parent'), (e: unknown) => {
        assert.ok(e instanceof SnapshotHasChildrenError);
        assert.deepEqual(e.children, ['child']);
        return true;
      });
      const m = await s.mount('child');
      try {
        await assert.rejects(s.remove('child'), SnapshotBusyError);
        await assert.rejects(s.commit('done', 'child'), SnapshotBusyError);
        if (driver === 'overlay') await assert.rejects(s.mount('child'), SnapshotBusyError);
      } finally {
        await m.release();
      }
      await s.remove('child');
      await s.remove('parent');
      assert.deepEqual(await s.list(), []);
      assert.equal(existsSync(childDir), false);
      assert.equal(existsSync(parentDir), false);
    }));

  test(`${driver}: misuse gets typed, user-facing errors`, () =>
    withStore(driver, async (s) => {
      await s.prepare('a');
      await s.view('v');
      await assert.rejects(s.prepare('a'), SnapshotExistsError);
      await assert.rejects(s.prepare('b', 'a'), SnapshotKindError, 'an active snapshot cannot be a parent');
      await assert.rejects(s.prepare('b', 'missing'), SnapshotNotFoundError);
      await assert.rejects(s.commit('c', 'v'), SnapshotKindError, 'a view cannot be committed');
      await s.commit('c', 'a');
      await s.prepare('a2', 'c');
      await assert.rejects(s.commit('c', 'a2'), SnapshotExistsError);
      await assert.rejects(s.mount('c'), SnapshotKindError);
      await assert.rejects(s.remove('missing'), (e: unknown) => {
        assert.ok(e instanceof SnapshotNotFoundError);
        assert.equal(e.code, 'KILN_SNAPSHOT_NOT_FOUND');
        assert.equal(e.userFacing, true);
        assert.match(e.message, /"missing"/);
        return true;
      });
      assert.throws(() => s.upperDir('missing'), SnapshotNotFoundError);
      assert.equal(await s.stat('missing'), undefined);
      assert.equal((await s.stat('v'))?.kind, 'view');
    }));

  test(`${driver}: keys are hashed to file names, never used as paths`, () =>
    withStore(driver, async (s, root) => {
      const keys = ['../../escape', 'sha256:' + 'ab'.repeat(32), 'a/b\0c', ' '];
      for (const k of keys) await s.prepare(k);
      assert.deepEqual((await s.list()).map((i) => i.key).sort(), [...keys].sort());
      const metaFiles = await readdir(path.join(root, 'snapshots', 'meta'));
      assert.equal(metaFiles.filter((f) => /^[0-9a-f]{64}\.json$/.test(f)).length, keys.length);
      assert.equal(existsSync(path.join(root, 'escape')), false);
      for (const k of keys) assert.match(path.relative(path.join(root, 'snapshots'), s.upperDir(k)), /^[0-9a-f]{16}\/fs$/);
    }));

  test(`${driver}: concurrent prepares of one key: one wins and no directory is left behind`, () =>
    withStore(driver, async (s, root) => {
      const results = await Promise.allSettled(Array.from({ length: 6 }, () => s.prepare('same')));
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
      for (const r of results) if (r.status === 'rejected') assert.ok(r.reason instanceof SnapshotExistsError);
      const ids = (await readdir(path.join(root, 'snapshots'))).filter((n) => /^[0-9a-f]{16}$/.test(n));
      assert.deepEqual(ids, [path.basename(path.dirname(s.upperDir('same')))]);
    }));

  test(`${driver}: a second open of the store sees the same records and refuses the other driver`, () =>
    withStore(driver, async (s, root) => {
      await s.prepare('x', undefined, { labels: { k: 'v' } });
      const again = await openSnapshotter(root, { driver: 'auto' });
      assert.equal(again.driver, driver, "'auto' follows the driver that made the snapshots");
      assert.deepEqual(await again.list(), await s.list());
      const other = driver === 'overlay' ? 'copy' : 'overlay';
      await assert.rejects(openSnapshotter(root, { driver: other }), SnapshotDriverMismatchError);
    }));
}

test('overlay: a whiteout made in a layer dir hides the lower file; a recreated dir is opaque', () =>
  withStore('overlay', async (s) => {
    await s.prepare('l1');
    await edit(s, 'l1', async (d) => {
      await put(d, 'gone', 'x');
      await put(d, 'dir/old', 'x');
      await put(d, 'keep', 'k');
    });
    await s.commit('c1', 'l1');
    await s.prepare('l2', 'c1');
    // What the layer engine's applyLayer writes for a deletion: a 0/0 character device.
    execFileSync('mknod', [path.join(s.upperDir('l2'), 'gone'), 'c', '0', '0']);
    await edit(s, 'l2', async (d) => {
      await rm(path.join(d, 'dir'), { recursive: true });
      await put(d, 'dir/new', 'n');
    });
    await s.commit('c2', 'l2');
    await s.view('v', 'c2');
    await edit(s, 'v', async (d) => assert.deepEqual(await tree(d), { 'dir/new': 'n', keep: 'k' }));
  }));

test('overlay: mounts have redirect_dir and metacopy off where the kernel knows them', () =>
  withStore('overlay', async (s) => {
    const params = '/sys/module/overlay/parameters';
    await s.prepare('l1');
    await edit(s, 'l1', (d) => put(d, 'dir/f', 'f'));
    await s.commit('c1', 'l1');
    await s.prepare('l2', 'c1');
    const m = await s.mount('l2');
    try {
      const [entry] = (await mountsUnder(m.dir)).filter((e) => e.mountPoint === m.dir);
      assert.ok(entry, 'the mount is in mountinfo');
      assert.equal(entry.fsType, 'overlay');
      for (const opt of ['redirect_dir', 'metacopy']) {
        if (!existsSync(path.join(params, opt))) continue;
        const shown = entry.superOptions.find((o) => o.startsWith(opt + '='));
        // The kernel lists an option only when it differs from the module default.
        if (shown !== undefined) assert.equal(shown, `${opt}=off`);
        else assert.equal(readFileSync(path.join(params, opt), 'utf8').trim(), 'N', `${opt} is on by default but not shown off`);
      }
      // With redirect_dir off, renaming a lower dir cannot be recorded as a redirect: EXDEV.
      await assert.rejects(rename(path.join(m.dir, 'dir'), path.join(m.dir, 'moved')), { code: 'EXDEV' });
    } finally {
      await m.release();
    }
  }));

test('overlay: a chain of 160 committed layers under a long path mounts and reads its bottom file', async () => {
  const base = await mkdtemp(path.join(tmpdir(), 'kiln-deep-'));
  const root = path.join(base, 'a-long-store-root-'.repeat(12));
  try {
    await withStore(
      'overlay',
      async (s) => {
        let parent: string | undefined;
        for (let i = 0; i < 160; i++) {
          await s.prepare(`l${i}`, parent);
          // The layer dir is the snapshot's own layer: writing there is what applyLayer does.
          await put(s.upperDir(`l${i}`), `f${i}`, String(i));
          await s.commit(`c${i}`, `l${i}`);
          parent = `c${i}`;
        }
        await s.view('top', parent);
        const lowers = s.parentDirs('top');
        assert.equal(lowers.length, 160);
        assert.ok(lowers.join(':').length > 4096, 'the lowerdir list must outgrow one page');
        await edit(s, 'top', async (d) => {
          assert.equal(await readFile(path.join(d, 'f0'), 'utf8'), '0');
          assert.equal(await readFile(path.join(d, 'f159'), 'utf8'), '159');
          assert.equal((await readdir(d)).length, 160);
        });
      },
      root,
    );
  } finally {
    await rm(base, { recursive: true, force: true });
  }
});

test("auto: picks overlay where it mounts, and copy with one log line where it cannot", async () => {
  const base = await mkdtemp(path.join(tmpdir(), 'kiln-auto-'));
  const lines: string[] = [];
  try {
    const s = await openSnapshotter(path.join(base, 'plain'), { log: (l) => lines.push(l) });
    assert.equal(s.driver, 'overlay');
    assert.equal(lines.length, 0);
    // An overlay cannot be the upper of another overlay: a store inside one must fall back.
    for (const d of ['l', 'u', 'w', 'm']) await mkdir(path.join(base, d));
    await native.mountOverlay({ lowers: [path.join(base, 'l')], upper: path.join(base, 'u'), work: path.join(base, 'w'), target: path.join(base, 'm') });
    try {
      const nested = path.join(base, 'm', 'store');
      const c = await openSnapshotter(nested, { log: (l) => lines.push(l) });
      assert.equal(c.driver, 'copy');
      assert.equal(lines.length, 1);
      assert.match(lines[0]!, /overlay mounts do not work under .*store\/snapshots.*not supported as upperdir.*copy snapshotter/);
      await assert.rejects(openSnapshotter(path.join(base, 'm', 'store2'), { driver: 'overlay' }), { code: 'KILN_OVERLAY_UNAVAILABLE' });
      assert.deepEqual((await mountsUnder(nested)).length, 0, 'the probe leaves no mount');
    } finally {
      await native.unmount(path.join(base, 'm'));
    }
  } finally {
    await rm(base, { recursive: true, force: true });
  }
});
