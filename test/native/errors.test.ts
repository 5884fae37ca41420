// The addon's errors carry a code and the kernel's errno, provoked for real: callers branch on
// `code` (ENOENT, ENOSPC, KILN_NOT_A_MOUNT…), never on the message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tar from 'tar-stream';
import { native } from '../../native/binding.js';
import { INVALID_ARG, LAYER_ENTRY, NOT_A_MOUNT } from '../../native/native-error.js';
import { withTmpDir } from '../helpers/tmp-dir.js';

const withTmp = (fn: (dir: string) => Promise<void>): Promise<void> => withTmpDir('kiln-native-errors-', fn);

/** A tar of one file entry named exactly `name` (tar-stream keeps `../` as written). */
async function oneEntryTar(name: string, size: number): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const c of pack) chunks.push(c as Buffer);
  })();
  pack.entry({ name, mode: 0o644 }, Buffer.alloc(size, 1));
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

test('unmount of a directory that is no mount point is KILN_NOT_A_MOUNT with EINVAL, async and sync', async () => {
  await withTmp(async (dir) => {
    await assert.rejects(native.unmount(dir), { code: NOT_A_MOUNT, errno: -22, message: `unmount ${dir}: ${dir} is not a mount point` });
    assert.throws(() => native.unmountDetachSync(dir), { code: NOT_A_MOUNT, errno: -22 });
  });
});

test('a missing path is ENOENT with errno -2, as Node names it, and the message names the path', async () => {
  await assert.rejects(native.sha256File('/nonexistent/kiln/blob'), { code: 'ENOENT', errno: -2, message: /\/nonexistent\/kiln\/blob/ });
  await assert.rejects(native.sha256Files(['/nonexistent/kiln/a']), { code: 'ENOENT', errno: -2 });
  await assert.rejects(native.scanTree('/nonexistent/kiln/tree'), { code: 'ENOENT', errno: -2 });
  await assert.rejects(native.cloneTree('/nonexistent/kiln/src', '/nonexistent/kiln/dst'), { code: 'ENOENT' });
  await assert.rejects(native.applyLayer({ layer: '/nonexistent/kiln/layer.tar', target: tmpdir(), driver: 'copy' }), { code: 'ENOENT', errno: -2 });
  assert.throws(() => native.tryLockFile(-1), { code: 'EBADF', errno: -9 });
});

test('a layer entry climbing out of the target is KILN_LAYER_ENTRY, with no errno', async () => {
  await withTmp(async (dir) => {
    const layer = path.join(dir, 'hostile.tar');
    await writeFile(layer, await oneEntryTar('../x', 1));
    await mkdir(path.join(dir, 'target'));
    const err = await native.applyLayer({ layer, target: path.join(dir, 'target'), driver: 'copy', layerDigest: 'sha256:abc' }).catch((e: unknown) => e);
    assert.ok(err instanceof Error);
    assert.deepEqual([(err as NodeJS.ErrnoException).code, (err as NodeJS.ErrnoException).errno], [LAYER_ENTRY, undefined]);
    assert.match(err.message, /^layer sha256:abc: entry "\.\.\/x": /);
  });
});

// The apply's space budget refuses it before writing (test/native/archive.test.ts has the bomb).
test('a layer bigger than the free space is ENOSPC with errno -28', async () => {
  await withTmp(async (dir) => {
    const small = path.join(dir, 'small');
    await mkdir(small);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', small]);
    try {
      const layer = path.join(dir, 'big.tar');
      await writeFile(layer, await oneEntryTar('big', 2 << 20));
      await assert.rejects(native.applyLayer({ layer, target: small, driver: 'copy' }), { code: 'ENOSPC', errno: -28, message: /entry "big": the layer expands past the free space/ });
    } finally {
      execFileSync('umount', [small]);
    }
  });
});

test('options that make no sense are KILN_INVALID_ARG', async () => {
  await assert.rejects(native.applyLayer({ layer: '/x', target: '/y', driver: 'zfs' as 'copy' }), { code: INVALID_ARG });
});
