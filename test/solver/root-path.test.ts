// resolveInRoot, through the addon's one confinement: every way a path or a symlink in an image
// may try to leave the root ends inside it, and a loop is one clear error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { resolveInRoot, SymlinkLoopError } from '../../solver/executors/root-path.js';
import { withTmpDir } from '../helpers/tmp-dir.js';

const withRoot = (fn: (dir: string) => Promise<void>): Promise<void> => withTmpDir('kiln-root-path-', fn);

test('".." chains stop at the root', async () => {
  await withRoot(async (root) => {
    await mkdir(path.join(root, 'a/b'), { recursive: true });
    assert.equal(await resolveInRoot(root, '../../../etc/passwd'), path.join(root, 'etc/passwd'));
    assert.equal(await resolveInRoot(root, '/a/b/../../../../a'), path.join(root, 'a'));
    assert.equal(await resolveInRoot(root, '..'), root);
  });
});

test('absolute and climbing symlinks resolve inside the root, the last one only when followed', async () => {
  await withRoot(async (root) => {
    await mkdir(path.join(root, 'etc'));
    await writeFile(path.join(root, 'etc/passwd'), 'x');
    await symlink('/etc/passwd', path.join(root, 'abs'));
    await symlink('../../../../etc', path.join(root, 'up'));
    assert.equal(await resolveInRoot(root, '/abs'), path.join(root, 'etc/passwd'));
    assert.equal(await resolveInRoot(root, '/abs', { followLast: false }), path.join(root, 'abs'));
    assert.equal(await resolveInRoot(root, '/up/passwd'), path.join(root, 'etc/passwd'));
    assert.equal(await resolveInRoot(root, '/up/new-file'), path.join(root, 'etc/new-file'));
  });
});

test('a symlink to a missing target gives where the target would be created', async () => {
  await withRoot(async (root) => {
    await symlink('/nowhere/file', path.join(root, 'dangling'));
    assert.equal(await resolveInRoot(root, '/dangling'), path.join(root, 'nowhere/file'));
  });
});

test('a missing component followed by ".." still reads the next symlink inside the root', async () => {
  await withRoot(async (root) => {
    await symlink('/etc', path.join(root, 'evil'));
    assert.equal(await resolveInRoot(root, '/missing/../evil/passwd'), path.join(root, 'etc/passwd'));
  });
});

test('a symlink loop is a SymlinkLoopError', async () => {
  await withRoot(async (root) => {
    await symlink('b', path.join(root, 'a'));
    await symlink('a', path.join(root, 'b'));
    await assert.rejects(resolveInRoot(root, '/a/x'), (err: unknown) => err instanceof SymlinkLoopError && err.code === 'KILN_SYMLINK_LOOP');
  });
});
