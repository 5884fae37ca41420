// The content store on real files: verified writes, crash leftovers, fsck, and several processes at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile, stat, access } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Store } from '../../snapshotter/store.js';
import { collectGarbage } from '../../snapshotter/gc.js';
import { DigestMismatchError } from '../../snapshotter/errors.js';
import { currentOwner } from '../../snapshotter/lock.js';

const dist = path.resolve(fileURLToPath(import.meta.url), '../../..');
const modUrl = (m: string): string => pathToFileURL(path.join(dist, m)).href;

const sha = (b: Uint8Array | string): string => 'sha256:' + createHash('sha256').update(b).digest('hex');

async function tempStore(t: { after(fn: () => Promise<void>): void }): Promise<Store> {
  const root = await mkdtemp(path.join(tmpdir(), 'kiln-content-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  return Store.open(root);
}

const ingestFiles = (store: Store): Promise<string[]> => readdir(path.join(store.root, 'ingest'));

/** Runs an ES module snippet in a separate node process; resolves with its exit code and output. */
function child(code: string): { done: Promise<{ code: number | null; signal: string | null; out: string }>; proc: ReturnType<typeof spawn> } {
  const proc = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d));
  proc.stderr!.on('data', (d: Buffer) => (out += d));
  const done = new Promise<{ code: number | null; signal: string | null; out: string }>((resolve) =>
    proc.on('close', (code, signal) => resolve({ code, signal, out })),
  );
  return { done, proc };
}

test('write stores under blobs/sha256/<hex> and reads back; info/has/readJSON agree', async (t) => {
  const store = await tempStore(t);
  const doc = JSON.stringify({ hello: 'world' });
  const info = await store.content.write(doc);
  assert.deepEqual(info, { digest: sha(doc), size: Buffer.byteLength(doc) });
  assert.equal(store.content.blobPath(info.digest), path.join(store.root, 'blobs/sha256', sha(doc).slice(7)));
  assert.equal(await readFile(store.content.blobPath(info.digest), 'utf8'), doc);
  assert.equal(await store.content.has(info.digest), true);
  assert.deepEqual(await store.content.info(info.digest), info);
  assert.deepEqual(await store.content.readJSON(info.digest), { hello: 'world' });
  assert.deepEqual(await store.content.write(doc, info.digest), info, 'rewriting the same content is a no-op');
  assert.deepEqual(await ingestFiles(store), []);
});

test('a wrong expected digest leaves nothing under the digest and no temp file', async (t) => {
  const store = await tempStore(t);
  const data = randomBytes(1000);
  const wrong = sha('something else');
  await assert.rejects(store.content.write(data, wrong), (e: unknown) => e instanceof DigestMismatchError && e.code === 'KILN_DIGEST_MISMATCH');
  assert.equal(await store.content.has(sha(data)), false);
  assert.equal(await store.content.has(wrong), false);

  await assert.rejects(store.content.ingestStream(Readable.from([data]), { digest: wrong }), DigestMismatchError);
  await assert.rejects(
    store.content.ingestStream(Readable.from([data]), { digest: sha(data), size: 999 }),
    DigestMismatchError,
    'more bytes than promised is refused',
  );
  await assert.rejects(
    store.content.ingestStream(Readable.from([data]), { digest: sha(data), size: 1001 }),
    DigestMismatchError,
    'fewer bytes than promised is refused',
  );
  const src = path.join(store.root, 'src-file');
  await writeFile(src, data);
  await assert.rejects(store.content.ingestFile(src, { expected: wrong, move: true }), DigestMismatchError);
  assert.deepEqual(await readFile(src), data, 'a refused move leaves the source in place');

  assert.equal(await store.content.has(sha(data)), false);
  assert.deepEqual(await store.content.list(), []);
  assert.deepEqual(await ingestFiles(store), []);
  await assert.rejects(store.content.read(sha(data)), { code: 'KILN_BLOB_NOT_FOUND' });
  assert.throws(() => store.content.blobPath('sha256:XYZ'), { code: 'KILN_INVALID_DIGEST' });
});

test('ingestStream and ingestFile (copy and move) store verified content', async (t) => {
  const store = await tempStore(t);
  const big = randomBytes(3 * 1024 * 1024 + 5);
  const streamed = await store.content.ingestStream(Readable.from([big.subarray(0, 1000), big.subarray(1000)]), {
    digest: sha(big),
    size: big.length,
  });
  assert.deepEqual(streamed, { digest: sha(big), size: big.length });
  assert.deepEqual(await store.content.read(sha(big)), big);

  const small = randomBytes(4096);
  const src = path.join(store.root, 'copy-me');
  await writeFile(src, small);
  assert.deepEqual(await store.content.ingestFile(src), { digest: sha(small), size: small.length });
  await access(src); // a copy leaves the source

  const other = randomBytes(4096);
  const movable = path.join(store.root, 'move-me');
  await writeFile(movable, other);
  const before = await stat(movable);
  assert.deepEqual(await store.content.ingestFile(movable, { expected: sha(other), move: true }), { digest: sha(other), size: 4096 });
  await assert.rejects(access(movable), { code: 'ENOENT' });
  assert.equal((await stat(store.content.blobPath(sha(other)))).ino, before.ino, 'same filesystem: renamed, not copied');

  const listed = (await store.content.list()).map((b) => b.digest).sort();
  assert.deepEqual(listed, [sha(big), sha(small), sha(other)].sort());
  assert.deepEqual(await ingestFiles(store), []);
});

test('fsck re-hashes every blob and names the one corrupted on purpose', async (t) => {
  const store = await tempStore(t);
  const blobs = await Promise.all(['a', 'b', 'c', 'd', 'e'].map((s) => store.content.write(s.repeat(10_000))));
  assert.deepEqual(await store.content.fsck(), { checked: 5, corrupt: [] });
  const victim = blobs[2]!.digest;
  const file = store.content.blobPath(victim);
  const bytes = await readFile(file);
  bytes[5000] ^= 0xff; // same size, one flipped byte
  await writeFile(file, bytes);
  assert.deepEqual(await store.content.fsck(), { checked: 5, corrupt: [victim] });
});

test('a writer killed mid-stream leaves only a temp in ingest/, never a blob, and prune removes it', async (t) => {
  const store = await tempStore(t);
  const { proc, done } = child(`
    import { Store } from ${JSON.stringify(modUrl('snapshotter/store.js'))};
    import { PassThrough } from 'node:stream';
    const store = await Store.open(${JSON.stringify(store.root)});
    const src = new PassThrough();
    store.content.ingestStream(src);
    src.write(Buffer.alloc(200000, 7), () => console.log('written'));
    setInterval(() => {}, 1000);
  `);
  await new Promise<void>((resolve, reject) => {
    proc.stdout!.on('data', (d: Buffer) => d.toString().includes('written') && resolve());
    proc.on('close', () => reject(new Error('child exited early')));
  });
  // Let the pipeline flush what it holds to the temp file, then crash the writer.
  // Wait for bytes, not just the file: the temp is created before the first chunk reaches it.
  const staged = async (): Promise<number> => {
    const names = await ingestFiles(store);
    return names.length === 0 ? 0 : (await stat(path.join(store.root, 'ingest', names[0]!))).size;
  };
  for (let i = 0; i < 200 && (await staged()) === 0; i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok((await staged()) > 0, 'the writer flushed part of the stream before it was killed');
  proc.kill('SIGKILL');
  assert.equal((await done).signal, 'SIGKILL');

  const leftovers = await ingestFiles(store);
  assert.equal(leftovers.length, 1);
  assert.deepEqual(await store.content.list(), [], 'a half write is never a blob');
  assert.equal(await store.content.has(sha(Buffer.alloc(200000, 7))), false);

  const inProgress = path.join(store.root, 'ingest', `${currentOwner()}-live`);
  await writeFile(inProgress, 'a live process is writing this');
  const gc = await collectGarbage(store);
  assert.equal(gc.blobs, 0);
  assert.ok(gc.bytes > 0, 'the leftover counts as freed');
  assert.deepEqual(await ingestFiles(store), [path.basename(inProgress)], 'only the dead writer’s temp is removed');
});

test('two processes writing the same and different blobs at once leave a consistent store', async (t) => {
  const store = await tempStore(t);
  const writer = (tag: string): string => `
    import { Store } from ${JSON.stringify(modUrl('snapshotter/store.js'))};
    import { Readable } from 'node:stream';
    const store = await Store.open(${JSON.stringify(store.root)});
    const jobs = [];
    for (let i = 0; i < 40; i++) {
      const shared = 'shared-' + i + '-'.repeat(i * 997);
      jobs.push(store.content.write(shared));
      jobs.push(store.content.ingestStream(Readable.from([Buffer.from(shared + '-stream')])));
      jobs.push(store.content.write('${tag}-' + i));
    }
    await Promise.all(jobs);
    console.log('ok');
  `;
  const [a, b] = [child(writer('alpha')), child(writer('beta'))];
  const results = await Promise.all([a.done, b.done]);
  for (const r of results) assert.equal(r.code, 0, r.out);

  const expected = new Set<string>();
  for (let i = 0; i < 40; i++) {
    const shared = 'shared-' + i + '-'.repeat(i * 997);
    expected.add(sha(shared));
    expected.add(sha(shared + '-stream'));
    expected.add(sha('alpha-' + i));
    expected.add(sha('beta-' + i));
  }
  const listed = await store.content.list();
  assert.deepEqual(new Set(listed.map((b) => b.digest)), expected);
  assert.deepEqual(await store.content.fsck(), { checked: expected.size, corrupt: [] });
  assert.deepEqual(await ingestFiles(store), []);
});
