// The addon's blob ingest: chunks handed over from JS are hashed and written on its own thread
// (past several write-back windows), a reset starts over, and errors carry codes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { native } from '../../native/binding.js';

test('BlobIngest writes and hashes what it is handed, after a reset only what came after', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'kiln-ingest-'));
  try {
    const file = path.join(dir, 'blob');
    const data = randomBytes(20 * 1024 * 1024 + 17);
    const ingest = native.BlobIngest.create(file);
    assert.equal(ingest.write(randomBytes(1000)), true);
    ingest.reset();
    for (let at = 0; at < data.length; at += 65536) assert.equal(ingest.write(data.subarray(at, at + 65536)), true);
    const got = await ingest.finish();
    assert.deepEqual(got, { digest: `sha256:${createHash('sha256').update(data).digest('hex')}`, size: data.length });
    assert.ok((await readFile(file)).equals(data));
    assert.equal(ingest.write(Buffer.from('late')), false, 'a finished ingest takes nothing more');
    await assert.rejects(ingest.finish(), { code: 'KILN_INVALID_ARG' });
    assert.throws(() => native.BlobIngest.create(file), { code: 'EEXIST', errno: -17 });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
