// Garbage collection on a real store and a real (copy-driver) snapshotter: what is reachable from
// image records, cache records and live leases stays, everything else goes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Store } from '../../snapshotter/store.js';
import { chainIds, collectGarbage } from '../../snapshotter/gc.js';
import { openSnapshotter } from '../../snapshotter/open-snapshotter.js';
import { LEASE_LABEL, LeasedSnapshotter } from '../../snapshotter/leased-snapshotter.js';
import { MediaType, type Descriptor, type ImageConfig, type Index, type Manifest, type Platform } from '../../oci/image-spec.js';

const sha = (b: Uint8Array | string): string => 'sha256:' + createHash('sha256').update(b).digest('hex');

interface Built {
  manifest: Descriptor;
  config: string;
  configSize: number;
  layers: string[];
  diffIds: string[];
}

/** Writes an image (uncompressed layers, so diffID = digest) and returns its digests. */
async function writeImage(store: Store, layers: Buffer[], platform: Platform = { os: 'linux', architecture: 'amd64' }): Promise<Built> {
  const layerDescs: Descriptor[] = [];
  for (const l of layers) {
    const info = await store.content.write(l);
    layerDescs.push({ mediaType: MediaType.ociLayer, ...info });
  }
  const diffIds = layerDescs.map((d) => d.digest);
  const config: ImageConfig = { ...platform, config: {}, rootfs: { type: 'layers', diff_ids: diffIds } };
  const configInfo = await store.content.write(JSON.stringify(config));
  const manifest: Manifest = { schemaVersion: 2, mediaType: MediaType.ociManifest, config: { mediaType: MediaType.ociConfig, ...configInfo }, layers: layerDescs };
  const m = await store.content.write(JSON.stringify(manifest));
  return { manifest: { mediaType: MediaType.ociManifest, ...m, platform }, config: configInfo.digest, configSize: configInfo.size, layers: diffIds, diffIds };
}

const digestsOf = (b: Built): string[] => [b.manifest.digest, b.config, ...b.layers];

test('GC keeps what images, cache records and live leases reach, and removes the rest', async (t) => {
  const root = await mkdtemp(path.join(tmpdir(), 'kiln-gc-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const store = await Store.open(root);
  const snaps = await openSnapshotter(root, { driver: 'copy' });

  const shared = randomBytes(3000);
  const a = await writeImage(store, [shared, randomBytes(2000)]);
  await store.images.put({ name: 'docker.io/library/a:latest', target: a.manifest, created: new Date().toISOString() });

  // A multi-platform image: every platform's manifest stays, not only the host's.
  const amd = await writeImage(store, [randomBytes(100)]);
  const arm = await writeImage(store, [randomBytes(101)], { os: 'linux', architecture: 'arm64' });
  const index: Index = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [amd.manifest, arm.manifest] };
  const indexInfo = await store.content.write(JSON.stringify(index));
  await store.images.put({ name: 'docker.io/library/b:1', target: { mediaType: MediaType.ociIndex, ...indexInfo }, created: new Date().toISOString() });

  // Untagged: its own blobs go, the layer it shares with A stays.
  const c = await writeImage(store, [shared, randomBytes(4000)]);
  await store.images.put({ name: 'docker.io/library/c:latest', target: c.manifest, created: new Date().toISOString() });
  assert.equal(await store.images.delete('docker.io/library/c:latest'), true);

  // Known only to a cache record, by manifest digest: its config and layers are found through it.
  const cached = await writeImage(store, [randomBytes(500)]);
  await mkdir(path.join(root, 'cache'));
  await writeFile(path.join(root, 'cache', 'build.json'), JSON.stringify({ digests: [cached.manifest.digest] }));
  await writeFile(path.join(root, 'cache', 'broken.json'), '{');

  const held = await store.content.write(randomBytes(700));
  const expiredBlob = await store.content.write(randomBytes(800));
  const garbage = await store.content.write(randomBytes(900));
  const live = await store.leases.create();
  await store.leases.add(live, { kind: 'blob', key: held.digest });
  await store.leases.add(live, { kind: 'snapshot', key: 'leased-child' });
  const expired = await store.leases.create({ id: 'expired', expiresInMs: -1000 });
  await store.leases.add(expired, { kind: 'blob', key: expiredBlob.digest });

  // Snapshots: A's layer chain, C's chain, a leased snapshot with its parent, an orphan chain.
  const commitChain = async (keys: string[]): Promise<void> => {
    for (const [i, key] of keys.entries()) {
      await snaps.prepare(`active-${key}`, keys[i - 1]);
      await writeFile(path.join(snaps.upperDir(`active-${key}`), `f${i}`), key);
      await snaps.commit(key, `active-${key}`);
    }
  };
  const aChain = chainIds(a.diffIds);
  const cChain = chainIds(c.diffIds);
  assert.equal(cChain[0], aChain[0], 'the shared bottom layer has one chain ID');
  await commitChain(aChain);
  await commitChain([cChain[1]!]);
  await commitChain(['leased-parent', 'leased-child']);
  await commitChain(['orphan-base', 'orphan-mid', 'orphan-top']);

  // A temp file of a writer that died (pid 1 never writes kiln temps; the start time is wrong).
  await writeFile(path.join(root, 'ingest', '1.1-deadbeef'), randomBytes(1234));

  const doomed = [cChain[1]!, 'orphan-base', 'orphan-mid', 'orphan-top'];
  let snapshotBytes = 0;
  for (const key of doomed) snapshotBytes += await snaps.usage(key);
  assert.ok(snapshotBytes > 0);
  const result = await collectGarbage(store, { snapshots: snaps });

  const kept = new Set([...digestsOf(a), ...digestsOf(amd), ...digestsOf(arm), indexInfo.digest, ...digestsOf(cached), held.digest]);
  const gone = [c.manifest.digest, c.config, c.layers[1]!, expiredBlob.digest, garbage.digest];
  const remaining = new Set((await store.content.list()).map((b) => b.digest));
  assert.deepEqual(remaining, kept);
  for (const d of gone) assert.equal(await store.content.has(d), false, `${d} should be gone`);

  assert.equal(result.blobs, gone.length);
  // C's manifest, config and own layer, the two loose blobs, the dead writer's temp file, the snapshots' files.
  assert.equal(result.bytes, c.manifest.size + c.configSize + 4000 + 800 + 900 + 1234 + snapshotBytes);
  assert.deepEqual(await readdir(path.join(root, 'ingest')), []);

  assert.equal(result.snapshots, 4);
  assert.deepEqual(
    (await snaps.list()).map((s) => s.key).sort(),
    [...aChain, 'leased-child', 'leased-parent'].sort(),
  );
  assert.deepEqual((await store.leases.list()).map((l) => l.id), [live], 'the expired lease is dropped');

  assert.deepEqual(await collectGarbage(store, { snapshots: snaps }), { blobs: 0, bytes: 0, snapshots: 0 }, 'a second run finds nothing');
});

test('chainIds follows the OCI definition', () => {
  const d = ['sha256:' + '1'.repeat(64), 'sha256:' + '2'.repeat(64), 'sha256:' + '3'.repeat(64)];
  const c1 = sha(`${d[0]} ${d[1]}`);
  assert.deepEqual(chainIds(d), [d[0], c1, sha(`${c1} ${d[2]}`)]);
  assert.deepEqual(chainIds([]), []);
});

test('GC keeps snapshots marked with a live lease (and their parents), not those of a lease that ended', async (t) => {
  const root = await mkdtemp(path.join(tmpdir(), 'kiln-gc-marks-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const store = await Store.open(root);
  const snaps = await openSnapshotter(root, { driver: 'copy' });
  const live = await store.leases.create({ owned: true });
  const building = new LeasedSnapshotter(snaps, store.leases, live);
  await building.prepare('base-rw');
  await building.commit('base', 'base-rw');
  await building.prepare('step-rw', 'base');
  await building.view('step-view', 'base');
  assert.equal((await snaps.stat('step-rw'))?.labels[LEASE_LABEL], live, 'the mark is on the record');

  // A build whose process is gone: its lease names a pid that does not run.
  const dead = 'dead-build';
  const file = JSON.parse(await readFile(store.leases.file, 'utf8')) as { leases: Record<string, unknown> };
  file.leases[dead] = { created: new Date().toISOString(), owner: '999999999.1', resources: [] };
  await writeFile(store.leases.file, JSON.stringify(file));
  const ended = new LeasedSnapshotter(snaps, store.leases, dead);
  await ended.prepare('dead-rw', 'base');

  const result = await collectGarbage(store, { snapshots: snaps });
  assert.equal(result.snapshots, 1);
  assert.deepEqual((await snaps.list()).map((s) => s.key).sort(), ['base', 'step-rw', 'step-view']);
  assert.deepEqual((await store.leases.list()).map((l) => l.id), [live], 'the dead process\'s lease is dropped');

  await store.leases.delete(live);
  assert.equal((await collectGarbage(store, { snapshots: snaps })).snapshots, 3, 'once the lease ends its snapshots are garbage');
});
