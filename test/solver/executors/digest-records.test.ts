// The context digest cache file (solver/executors/digest-records.ts): what survives a write and
// read, what is dropped, and that a bad file only costs rehashing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DigestRecords, readRecords, writeRecords } from '../../../solver/executors/digest-records.js';

async function scratch(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'kiln-digest-records-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const D1 = 'sha256:' + '1'.repeat(64);
const D2 = 'sha256:' + 'ab'.repeat(32);
const D3 = 'sha256:' + 'c'.repeat(63) + 'd';
// Fractional mtimes as node reports them (ns precision), a large inode: all must survive exactly.
const a = { rel: 'a.txt', size: 5, mtimeMs: 1_795_439_580_537.0071, ino: 2 ** 40 + 3 };
const b = { rel: 'dir/b.bin', size: 0, mtimeMs: 1_600_000_000_000.1, ino: 17 };
const c = { rel: 'gone', size: 9, mtimeMs: 1, ino: 18 };
const CTX = '/some/context';

test('records round-trip: the same size, mtime and inode find the digest; any change misses', async (t) => {
  const file = path.join(await scratch(t), 'cache/context/x.json'); // parent dirs are created
  const w = new DigestRecords();
  w.add(a, D1);
  w.add(b, D2);
  await writeRecords(file, CTX, w, [a.rel, b.rel]);
  const r = await readRecords(file, CTX);
  assert.equal(r.lookup(a), D1);
  assert.equal(r.lookup(b), D2);
  assert.equal(r.lookup({ ...a, size: a.size + 1 }), undefined, 'size differs');
  assert.equal(r.lookup({ ...a, mtimeMs: a.mtimeMs + 0.001 }), undefined, 'mtime differs by a µs');
  assert.equal(r.lookup({ ...a, ino: a.ino + 1 }), undefined, 'inode differs');
  assert.equal(r.lookup({ ...a, rel: 'other' }), undefined, 'unknown path');
});

test('records for paths no longer present are dropped on write', async (t) => {
  const file = path.join(await scratch(t), 'x.json');
  const w = new DigestRecords();
  w.add(a, D1);
  w.add(c, D3);
  await writeRecords(file, CTX, w, [a.rel]);
  const r = await readRecords(file, CTX);
  assert.equal(r.lookup(a), D1);
  assert.equal(r.lookup(c), undefined);
  // And a read record not present at the next write is dropped too.
  await writeRecords(file, CTX, r, [b.rel]);
  assert.equal((await readRecords(file, CTX)).lookup(a), undefined);
});

test('a file written for another directory reads as empty', async (t) => {
  const file = path.join(await scratch(t), 'x.json');
  const w = new DigestRecords();
  w.add(a, D1);
  await writeRecords(file, '/other/context', w, [a.rel]);
  assert.equal((await readRecords(file, '/other/context')).lookup(a), D1, 'control: readable for its own dir');
  assert.equal((await readRecords(file, CTX)).lookup(a), undefined);
});

test('a missing, truncated or inconsistent file reads as empty', async (t) => {
  const dir = await scratch(t);
  const file = path.join(dir, 'x.json');
  assert.equal((await readRecords(path.join(dir, 'missing.json'), CTX)).lookup(a), undefined);
  const w = new DigestRecords();
  w.add(a, D1);
  w.add(b, D2);
  await writeRecords(file, CTX, w, [a.rel, b.rel]);
  const text = await readFile(file, 'utf8');
  await truncate(file, Math.floor(text.length / 2));
  assert.equal((await readRecords(file, CTX)).lookup(a), undefined, 'truncated JSON');
  // Valid JSON whose columns disagree (one hash short): indexes would point at the wrong digest.
  const cols = JSON.parse(text) as { hashes: string };
  await writeFile(file, JSON.stringify({ ...cols, hashes: cols.hashes.slice(64) }));
  assert.equal((await readRecords(file, CTX)).lookup(a), undefined, 'hashes column short');
  await writeFile(file, '');
  assert.equal((await readRecords(file, CTX)).lookup(a), undefined, 'empty file');
});

test('a newer add wins over a record read from the file', async (t) => {
  const file = path.join(await scratch(t), 'x.json');
  const w = new DigestRecords();
  w.add(a, D1);
  await writeRecords(file, CTX, w, [a.rel]);
  const r = await readRecords(file, CTX);
  const changed = { ...a, size: 6, mtimeMs: a.mtimeMs + 1000.5 };
  r.add(changed, D2);
  assert.equal(r.lookup(changed), D2);
  assert.equal(r.lookup(a), undefined, 'the old stat no longer finds the old digest');
  await writeRecords(file, CTX, r, [a.rel]);
  const again = await readRecords(file, CTX);
  assert.equal(again.lookup(changed), D2);
  assert.equal(again.lookup(a), undefined);
  const rels = (JSON.parse(await readFile(file, 'utf8')) as { rels: string }).rels.split('\0');
  assert.deepEqual(rels, [a.rel], 'one record per path: the stale one is not written beside it');
});

test('the written JSON has no `digests` field (GC would take those as blob roots)', async (t) => {
  const file = path.join(await scratch(t), 'x.json');
  const w = new DigestRecords();
  w.add(a, D1);
  await writeRecords(file, CTX, w, [a.rel]);
  const text = await readFile(file, 'utf8');
  const json = JSON.parse(text) as Record<string, unknown>;
  assert.equal('digests' in json, false);
  assert.doesNotMatch(text, /"digests"/);
});

test('records come back in the order given and are found in any lookup order', async (t) => {
  const file = path.join(await scratch(t), 'x.json');
  const w = new DigestRecords();
  w.add(c, D3);
  w.add(a, D1);
  w.add(b, D2);
  // Written in the order of `present` (the scan's), not the order they were added.
  await writeRecords(file, CTX, w, [a.rel, b.rel, c.rel]);
  const written = JSON.parse(await readFile(file, 'utf8')) as { rels: string };
  assert.deepEqual(written.rels.split('\0'), [a.rel, b.rel, c.rel]);
  // In order (the cursor), then backwards and skipping (the fallback index).
  const inOrder = await readRecords(file, CTX);
  assert.deepEqual([inOrder.lookup(a), inOrder.lookup(b), inOrder.lookup(c)], [D1, D2, D3]);
  const shuffled = await readRecords(file, CTX);
  assert.deepEqual([shuffled.lookup(c), shuffled.lookup(a), shuffled.lookup(c), shuffled.lookup(b)], [D3, D1, D3, D2]);
  assert.equal(shuffled.lookup({ ...b, rel: 'nowhere' }), undefined);
});
