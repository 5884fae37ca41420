// The addon's streaming sha256 against node:crypto on real files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { native } from '../../native/binding.js';

test('sha256File matches node:crypto on a multi-chunk file and reports its size', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'kiln-sha-'));
  try {
    const data = randomBytes(3 * 1024 * 1024 + 17); // spans several 1 MiB read chunks
    const file = path.join(dir, 'blob');
    await writeFile(file, data);
    const got = await native.sha256File(file);
    assert.equal(got.digest, 'sha256:' + createHash('sha256').update(data).digest('hex'));
    assert.equal(got.size, data.length);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('sha256File rejects with the path for a missing file', async () => {
  await assert.rejects(native.sha256File('/nonexistent/kiln/blob'), /\/nonexistent\/kiln\/blob/);
});
