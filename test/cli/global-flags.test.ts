// Docker-style global flags before the command, and `kiln` alone, through the real binary.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { repoRoot, runKiln } from '../helpers/kiln-cli.js';

const run = promisify(execFile);

test('kiln alone prints its usage, with the global flags, and exits 0 as docker does', async () => {
  const r = await runKiln([]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout.toString(), /^Usage: kiln \[OPTIONS\] COMMAND/);
  assert.match(r.stdout.toString(), /--root DIR/);
  assert.match(r.stdout.toString(), /\n  build /);
});

test('--root before the command names the store for every command; a relative one is taken from the working directory', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'kiln-global-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const rootfs = path.join(dir, 'rootfs.tar');
  await run('bash', [path.join(repoRoot, 'examples/make-busybox-rootfs.sh'), rootfs]);
  const env = { ...process.env, KILN_ROOT: path.join(dir, 'not-this-one') };
  const imported = await runKiln(['--root', path.join(dir, 'store'), 'import', rootfs, 'kiln.local/g:1'], { env });
  assert.equal(imported.code, 0, imported.stderr);
  const listed = await runKiln(['--root=store', 'images'], { env, cwd: dir });
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(listed.stdout.toString(), /kiln\.local\/g\s+1/);
  const elsewhere = await runKiln(['images'], { env });
  assert.doesNotMatch(elsewhere.stdout.toString(), /kiln\.local\/g/, 'without the flag, $KILN_ROOT is used');
});

test('--debug and --log-level debug print the stack of an error; a bad level is a usage error', async () => {
  const plain = await runKiln(['--log-level', 'info', 'inspect', 'no-such-image', '--root', '/nonexistent-kiln-root']);
  assert.equal(plain.code, 1);
  assert.doesNotMatch(plain.stderr, /\n\s+at /, 'no stack without --debug');
  for (const flags of [['-D'], ['--debug'], ['--log-level=debug']]) {
    const r = await runKiln([...flags, 'inspect', 'no-such-image', '--root', '/nonexistent-kiln-root']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /\n\s+at /, `${flags.join(' ')} prints the stack`);
  }
  const bad = await runKiln(['--log-level', 'loud', 'images']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^error: --log-level: "loud" is not one of debug, info, warn, error, fatal/);
});
