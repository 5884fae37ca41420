// --snapshotter: the copy driver builds and runs the example end to end, and a store keeps
// the driver it started with.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { repoRoot, runKiln } from '../helpers/kiln-cli.js';

test('build and run with --snapshotter copy; the store then refuses overlay; a bad value is a flag error', async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'kiln-snap-flag-'));
  try {
    const rootfs = execFileSync(path.join(repoRoot, 'examples', 'make-busybox-rootfs.sh'), { maxBuffer: 64 << 20 });
    // import unpacks its layer, so it is the first to choose the store's driver.
    const imp = await runKiln(['import', '--root', root, '--snapshotter', 'copy', '-', 'kiln.local/busybox'], { input: rootfs });
    assert.equal(imp.code, 0, imp.stderr);
    const bad = await runKiln(['build', '--root', root, '--snapshotter', 'zfs', '-t', 'h', 'examples/hello']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /--snapshotter=zfs: use overlay, copy or auto/);
    const build = await runKiln(['build', '--root', root, '--snapshotter', 'copy', '--progress', 'plain', '-t', 'h', 'examples/hello']);
    assert.equal(build.code, 0, build.stderr);
    assert.equal((await readFile(path.join(root, 'snapshots', 'driver'), 'utf8')).trim(), 'copy');
    const run = await runKiln(['run', '--root', root, '--rm', 'h']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.toString(), 'Hello from kiln, world!\n');
    const mismatch = await runKiln(['run', '--root', root, '--snapshotter', 'overlay', '--rm', 'h']);
    assert.notEqual(mismatch.code, 0);
    assert.match(mismatch.stderr, /made by the copy driver/);
    assert.equal(mismatch.stderr.trim().split('\n').length, 1, 'one line');
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
