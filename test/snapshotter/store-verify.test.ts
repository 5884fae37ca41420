// `kiln store verify [--repair]` on a real store with damage made on purpose: a flipped byte in a
// layer blob, a snapshot whose directory went, an unreadable snapshot record, a directory no record
// names, a dead process's lease and temp file. Each is named; --repair mends what it can, marks the
// damaged image (keeping it), leaves every sound image running, and a rebuild restores the image.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { importBusybox, runKiln } from '../helpers/kiln-cli.js';
import { Store } from '../../snapshotter/store.js';
import { resolveImage } from '../../snapshotter/image-read.js';
import { openSnapshotter } from '../../snapshotter/open-snapshotter.js';
import { LAYER_LABEL } from '../../snapshotter/unpack.js';

const DEAD = '4194305.1'; // above any pid_max: no such process can run

test('store verify names each damage, --repair mends it without losing a sound image, a rebuild restores the damaged one', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'kiln-verify-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const root = path.join(dir, 'root');
  await importBusybox(dir, root);
  const kiln = (...args: string[]) => runKiln(['--root', root, ...args]);
  const ctx = path.join(dir, 'ctx');
  await mkdir(ctx);
  await writeFile(path.join(ctx, 'f'), 'copied\n');
  await writeFile(path.join(ctx, 'a.Dockerfile'), 'FROM kiln.local/busybox\nRUN echo a > /a\nCOPY f /f\n');
  await writeFile(path.join(ctx, 'b.Dockerfile'), 'FROM kiln.local/busybox\nRUN echo b > /b\n');
  for (const name of ['a', 'b']) assert.equal((await kiln('build', '-q', '-t', name, '-f', path.join(ctx, `${name}.Dockerfile`), ctx)).code, 0);

  assert.deepEqual((await readdir(path.join(root, 'snapshots'))).filter((n) => n.includes('.creating-')), [], 'a finished snapshot keeps no creation marker');
  const clean = await kiln('store', 'verify');
  assert.equal(clean.code, 0, clean.stdout.toString() + clean.stderr);
  assert.match(clean.stdout.toString(), /^store is consistent \(\d+ blobs checked\)\n$/);

  // The damage.
  const store = await Store.open(root);
  const a = await resolveImage(store, 'a');
  const layerA = a.manifest.layers.at(-1)!.digest;
  const blob = await readFile(store.content.blobPath(layerA));
  blob[blob.length >> 1] ^= 0xff;
  await writeFile(store.content.blobPath(layerA), blob);
  const snaps = await openSnapshotter(root, { log: () => undefined });
  const built = (await snaps.list()).filter((s) => s.kind === 'committed' && s.labels[LAYER_LABEL] === undefined && s.parent !== undefined);
  const gone = built.find((s) => !built.some((o) => o.parent === s.key))!;
  await rm(snaps.upperDir(gone.key), { recursive: true });
  const metaDir = path.join(root, 'snapshots', 'meta');
  const badRecord = path.join(metaDir, `${'0'.repeat(64)}.json`);
  await writeFile(badRecord, '{ not json');
  const orphan = path.join(root, 'snapshots', '0123456789abcdef');
  await mkdir(path.join(orphan, 'fs'), { recursive: true });
  const unfinished = path.join(root, 'snapshots', 'fedcba9876543210');
  await mkdir(path.join(unfinished, 'fs'), { recursive: true });
  await writeFile(path.join(unfinished, 'fs', 'half'), 'a snapshot being filled');
  await writeFile(path.join(root, 'snapshots', `fedcba9876543210.creating-${DEAD}`), '');
  const leftover = path.join(root, 'ingest', `${DEAD}-0011223344556677`);
  await writeFile(leftover, 'half a blob');
  const leasesFile = path.join(root, 'leases.json');
  const leases = JSON.parse(await readFile(leasesFile, 'utf8')) as { leases: Record<string, unknown> };
  leases.leases['dead-build'] = { created: new Date().toISOString(), owner: DEAD, resources: [] };
  await writeFile(leasesFile, JSON.stringify(leases));

  const found = await kiln('store', 'verify');
  const lines = found.stdout.toString().trim().split('\n');
  assert.equal(found.code, 1, found.stdout.toString());
  const has = (re: RegExp) => assert.ok(lines.some((l) => re.test(l)), `no line matches ${re}:\n${lines.join('\n')}`);
  has(new RegExp(`^blob ${layerA}: its content does not hash to its name$`));
  has(new RegExp(`^image docker.io/library/a:latest: lacks layer ${layerA} \\(missing or corrupt\\)$`));
  has(new RegExp(`^snapshot ${gone.key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: its directory .* is gone$`));
  has(new RegExp(`^snapshot ${badRecord}: the record cannot be read`));
  has(new RegExp(`^snapshot ${orphan}: no snapshot record names this directory`));
  // What a kiln start clears by itself (a killed writer's temp file and lease, a snapshot its maker
  // did not finish) is cleared first and said so; the rest is damage.
  // An unfinished snapshot stays while a record cannot be read (it might be the one naming it).
  has(/^recovered what killed processes left: 0 unfinished snapshot\(s\), 1 temp file\(s\), 1 lease\(s\)$/);
  assert.ok(!lines.some((l) => /^(ingest|lease) /.test(l)), 'recovered leftovers are not reported as damage');
  has(new RegExp(`^snapshot ${unfinished}: no snapshot record names this directory`));
  has(/^cache .*index\.json: 1 build cache record\(s\) name snapshots that are gone or damaged$/);
  has(/^cache .*layers\.json: 1 layer record\(s\) name blobs that are missing or corrupt$/);
  assert.ok(!lines.some((l) => l.includes('library/b:latest')), 'the sound image is not reported');

  const repaired = await kiln('store', 'verify', '--repair');
  assert.equal(repaired.code, 0, repaired.stdout.toString() + repaired.stderr);
  assert.match(repaired.stdout.toString(), /^image docker.io\/library\/a:latest: .*: marked damaged/m);

  // Only the damaged image remains reported, marked; nothing else is left.
  const after = await kiln('store', 'verify');
  assert.equal(after.code, 1);
  assert.deepEqual(after.stdout.toString().trim().split('\n').slice(0, -1), [`image docker.io/library/a:latest: lacks layer ${layerA} (missing or corrupt); marked damaged`]);
  assert.equal((await kiln('images', '-q')).stdout.toString().trim().split('\n').length, 3, 'no image was deleted');
  const b = await kiln('run', '--rm', 'b', 'cat', '/b');
  assert.equal(b.stdout.toString(), 'b\n', b.stderr);

  // Once the records read, the next kiln start (this rebuild) removes a killed maker's unfinished snapshot.
  const marker = path.join(root, 'snapshots', `0a0a0a0a0a0a0a0a.creating-${DEAD}`);
  await mkdir(path.join(root, 'snapshots', '0a0a0a0a0a0a0a0a', 'fs'), { recursive: true });
  await writeFile(marker, '');
  // A rebuild writes the layer again and clears the mark.
  assert.equal((await kiln('build', '-q', '--no-cache', '-t', 'a', '-f', path.join(ctx, 'a.Dockerfile'), ctx)).code, 0);
  await assert.rejects(readFile(marker), { code: 'ENOENT' });
  await assert.rejects(readdir(path.join(root, 'snapshots', '0a0a0a0a0a0a0a0a')), { code: 'ENOENT' });
  const restored = await kiln('store', 'verify');
  assert.equal(restored.code, 0, restored.stdout.toString());
  assert.equal((await kiln('run', '--rm', 'a', 'cat', '/a', '/f')).stdout.toString(), 'a\ncopied\n');
});
