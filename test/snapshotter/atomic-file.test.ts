// The one atomic record writer on real files: replaces whole, leaves no temp file, fails clean.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { writeFileAtomic } from '../../snapshotter/atomic-file.js';

test('writeFileAtomic replaces a file whole, creating its directory, and leaves no temp file', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'kiln-atomic-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'sub', 'record.json');
  await writeFileAtomic(file, '{"v":1}\n');
  await writeFileAtomic(file, '{"v":2}\n', { mode: 0o600 });
  assert.equal(await readFile(file, 'utf8'), '{"v":2}\n');
  assert.deepEqual(await readdir(path.dirname(file)), ['record.json']);
});

test('writeFileAtomic that cannot finish keeps the old file and removes its temp file', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'kiln-atomic-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'record.json');
  await writeFile(file, 'old\n');
  // The rename fails: the target's name is a non-empty directory's.
  const blocked = path.join(dir, 'blocked');
  await mkdir(path.join(blocked, 'inside'), { recursive: true });
  await assert.rejects(writeFileAtomic(blocked, 'new\n'), { code: 'EISDIR' });
  assert.deepEqual((await readdir(dir)).sort(), ['blocked', 'record.json'], 'no temp file left');
  assert.equal(await readFile(file, 'utf8'), 'old\n');
});
