// How `kiln` starts: bin/kiln.js runs the bundle (dist/kiln.cjs) through V8's code cache, one per
// command, made on a command's first run and then reused as it is (compiling kiln is most of a
// cached build's time otherwise).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { repoRoot, runKiln } from '../helpers/kiln-cli.js';

const cacheOf = (command: string) => path.join(repoRoot, 'dist', 'v8-cache', `${command}.bin`);

test('a command makes its code cache on its first run and reuses it after', async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'kiln-startup-'));
  try {
    await rm(cacheOf('images'), { force: true });
    const first = await runKiln(['images', '--root', root]);
    assert.equal(first.code, 0, first.stderr);
    const made = await stat(cacheOf('images'));
    assert.ok(made.size > 10_000, `a cache of what 'images' compiled (${made.size} bytes)`);

    const second = await runKiln(['images', '--root', root]);
    assert.equal(second.code, 0, second.stderr);
    assert.equal(second.stdout.toString(), first.stdout.toString());
    const after = await stat(cacheOf('images'));
    assert.equal(after.mtimeMs, made.mtimeMs, 'V8 accepted the cache, so it was not written again');
    assert.equal(after.ino, made.ino);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('a cache V8 rejects (made for other code) is replaced by a good one', async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'kiln-startup-'));
  try {
    await writeFile(cacheOf('images'), Buffer.alloc(4096, 7));
    const r = await runKiln(['images', '--root', root]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok((await stat(cacheOf('images'))).size > 10_000, 'the garbage cache was replaced');
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
