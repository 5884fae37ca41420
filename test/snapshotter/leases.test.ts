// Leases on real files: create, add, list, delete, expiry.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Leases } from '../../snapshotter/leases.js';

async function tempRoot(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const root = await mkdtemp(path.join(tmpdir(), 'kiln-leases-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  return root;
}

const blob = 'sha256:' + 'a'.repeat(64);

test('a lease holds resources (deduplicated) until deleted, across instances', async (t) => {
  const root = await tempRoot(t);
  const leases = new Leases(root);
  const id = await leases.create();
  assert.match(id, /^[a-f0-9]{24}$/);
  await leases.add(id, { kind: 'blob', key: blob });
  await leases.add(id, { kind: 'blob', key: blob });
  await leases.add(id, { kind: 'snapshot', key: 'build-1/step-2' });
  const named = await new Leases(root).create({ id: 'build-7', expiresInMs: 60_000 });
  assert.equal(named, 'build-7');

  const listed = await new Leases(root).list();
  assert.deepEqual(listed.find((l) => l.id === id), {
    id,
    resources: [{ kind: 'blob', key: blob }, { kind: 'snapshot', key: 'build-1/step-2' }],
  });
  const timed = listed.find((l) => l.id === 'build-7')!;
  assert.ok(Math.abs(Date.parse(timed.expires!) - (Date.now() + 60_000)) < 5_000);

  await assert.rejects(leases.create({ id: 'build-7' }), /already exists/);
  await assert.rejects(leases.add('nope', { kind: 'blob', key: blob }), { code: 'KILN_LEASE_NOT_FOUND' });
  await leases.delete(id);
  await leases.delete(id);
  assert.deepEqual((await leases.list()).map((l) => l.id), ['build-7']);
});

test('a lease with a random id is written with its first resources and, deleted empty, never', async (t) => {
  const root = await tempRoot(t);
  const leases = new Leases(root);
  const unused = await leases.create({ expiresInMs: 60_000 });
  await leases.delete(unused);
  await assert.rejects(stat(path.join(root, 'leases.json')), { code: 'ENOENT' });
  const id = await leases.create({ expiresInMs: 60_000 });
  assert.deepEqual(await leases.list(), [], 'nothing held, nothing written');
  await leases.add(id, { kind: 'blob', key: blob }, { kind: 'snapshot', key: 's' }, { kind: 'blob', key: blob });
  const [listed] = await new Leases(root).list();
  assert.equal(listed?.id, id);
  assert.deepEqual(listed?.resources, [{ kind: 'blob', key: blob }, { kind: 'snapshot', key: 's' }]);
  assert.ok(Math.abs(Date.parse(listed!.expires!) - (Date.now() + 60_000)) < 5_000, 'the expiry is the one asked at create');
  await leases.delete(id);
  assert.deepEqual(await leases.list(), []);
  await assert.rejects(leases.add(id, { kind: 'blob', key: blob }), { code: 'KILN_LEASE_NOT_FOUND' });
});

test('whileHeld passes only unexpired leases and drops the expired ones from the file', async (t) => {
  const root = await tempRoot(t);
  const leases = new Leases(root);
  await leases.create({ id: 'old', expiresInMs: -1 });
  await leases.create({ id: 'fresh', expiresInMs: 60_000 });
  await leases.create({ id: 'forever' });
  const seen = await leases.whileHeld(async (live) => live.map((l) => l.id));
  assert.deepEqual(seen, ['fresh', 'forever']);
  assert.deepEqual((await leases.list()).map((l) => l.id), ['forever', 'fresh']);
});
