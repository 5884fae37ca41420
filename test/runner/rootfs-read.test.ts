// Reading /etc/passwd and friends through overlay layers with the image's symlinks kept inside the root.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { readRootFile, rootLayers } from '../../runner/rootfs-read.js';

describe('readRootFile', () => {
  it('takes the topmost layer, honours whiteouts, and resolves symlinks inside the root', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'kiln-rootread-'));
    try {
      const [upper, mid, base] = ['upper', 'mid', 'base'].map((l) => path.join(dir, l)) as [string, string, string];
      for (const l of [upper, mid, base]) await mkdir(path.join(l, 'etc'), { recursive: true });
      await writeFile(path.join(base, 'etc/passwd'), 'base\n');
      await writeFile(path.join(mid, 'etc/passwd'), 'mid\n');
      await writeFile(path.join(base, 'etc/group'), 'base-group\n');
      await writeFile(path.join(base, 'etc/shadow'), 'hidden\n');
      // An overlay whiteout (0:0 char device) deletes the lower file.
      execFileSync('mknod', [path.join(upper, 'etc/shadow'), 'c', '0', '0']);
      await mkdir(path.join(base, 'data'));
      await writeFile(path.join(base, 'data/real'), 'inside\n');
      // Absolute and climbing symlinks must resolve in the root, not on the host.
      await symlink('/data/real', path.join(mid, 'etc/abs'));
      await symlink('../../../../../../../data/real', path.join(upper, 'etc/climb'));
      await symlink('/etc/hostname', path.join(base, 'etc/host-link'));
      await symlink('loop-b', path.join(base, 'etc/loop-a'));
      await symlink('loop-a', path.join(base, 'etc/loop-b'));
      const layers = [upper, mid, base];
      assert.equal(await readRootFile(layers, '/etc/passwd'), 'mid\n');
      assert.equal(await readRootFile(layers, '/etc/group'), 'base-group\n');
      assert.equal(await readRootFile(layers, '/etc/shadow'), undefined);
      assert.equal(await readRootFile(layers, '/etc/abs'), 'inside\n');
      assert.equal(await readRootFile(layers, '/etc/climb'), 'inside\n');
      assert.equal(await readRootFile(layers, '/etc/host-link'), undefined);
      assert.equal(await readRootFile(layers, '/etc'), undefined);
      assert.equal(await readRootFile(layers, '/etc/loop-a'), undefined);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('orders layers upper first, with rootfs as the lower when none are given', () => {
    assert.deepEqual(rootLayers({ rootfs: '/r' }), ['/r']);
    assert.deepEqual(rootLayers({ rootfs: '/r', upper: { upperDir: '/u', workDir: '/w', lowers: [] } }), ['/u', '/r']);
    assert.deepEqual(rootLayers({ rootfs: '/m', upper: { upperDir: '/u', workDir: '/w', lowers: ['/a', '/b'] } }), ['/u', '/a', '/b']);
  });
});
