// Archives kiln writes are read by skopeo and umoci, and archives skopeo writes are read by kiln:
// independent implementations of the formats, on a real busybox image.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, readlink, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { saveImages } from '../../exporter/image-save.js';
import { loadArchive } from '../../exporter/image-load.js';
import { Store } from '../../snapshotter/store.js';
import type { Manifest } from '../../oci/image-spec.js';
import { repoRoot } from '../helpers/kiln-cli.js';
import { sha256, storeImageFromTars, type FixtureImage } from './image-fixture.js';

const run = promisify(execFile);
let dir: string;
let store: Store;
let image: FixtureImage;
let busybox: Buffer;
let ociTar: string;

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'kiln-interop-'));
  const rootfs = path.join(dir, 'rootfs.tar');
  await run('bash', [path.join(repoRoot, 'examples/make-busybox-rootfs.sh'), rootfs]);
  busybox = await readFile('/bin/busybox');
  store = await Store.open(path.join(dir, 'root'));
  image = await storeImageFromTars(store, 'kiln.local/busybox:latest', [await readFile(rootfs)]);
  ociTar = path.join(dir, 'busybox-oci.tar');
  await saveImages(store, ['kiln.local/busybox:latest'], ociTar, 'oci');
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface SkopeoInspect {
  Digest: string;
  Layers: string[];
  Architecture: string;
  Os: string;
}

test('skopeo inspect reads the saved OCI archive and reports our manifest and layer digests', async () => {
  for (const ref of [`oci-archive:${ociTar}`, `oci-archive:${ociTar}:latest`]) {
    const { stdout } = await run('skopeo', ['inspect', ref]);
    const got = JSON.parse(stdout) as SkopeoInspect;
    assert.equal(got.Digest, image.manifest.digest);
    assert.deepEqual(got.Layers, image.layers.map((l) => l.digest));
    assert.equal(got.Os, 'linux');
  }
  // docker's manifest.json side of the same archive: skopeo's docker-archive reader sees the same config.
  const { stdout } = await run('skopeo', ['inspect', '--config', `docker-archive:${ociTar}`]);
  assert.deepEqual(JSON.parse(stdout).rootfs.diff_ids, image.diffIds);
});

test('umoci unpacks the saved OCI archive into a rootfs holding busybox', async () => {
  const layout = path.join(dir, 'layout');
  const bundle = path.join(dir, 'bundle');
  await mkdir(layout);
  await run('tar', ['-xf', ociTar, '-C', layout]);
  await run('umoci', ['unpack', '--image', `${layout}:latest`, bundle]);
  const unpacked = path.join(bundle, 'rootfs', 'bin', 'busybox');
  assert.deepEqual(await readFile(unpacked), busybox);
  assert.ok(((await stat(unpacked)).mode & 0o111) !== 0, 'busybox is executable');
  assert.equal(await readlink(path.join(bundle, 'rootfs', 'bin', 'sh')), 'busybox');
});

test('a docker-format save is read by skopeo and loads back into kiln with the same digests', async () => {
  const dockerTar = path.join(dir, 'busybox-docker.tar');
  await saveImages(store, ['kiln.local/busybox:latest'], dockerTar, 'docker');
  const { stdout } = await run('skopeo', ['inspect', '--config', `docker-archive:${dockerTar}`]);
  assert.deepEqual(JSON.parse(stdout).rootfs.diff_ids, image.diffIds);
  const other = await Store.open(path.join(dir, 'from-docker'));
  const loaded = await loadArchive(other, createReadStream(dockerTar), dockerTar);
  assert.deepEqual(loaded, [{ names: ['kiln.local/busybox:latest'], id: image.config.digest, target: image.manifest }]);
});

test('kiln loads what skopeo copy writes as docker-archive (plain layers, symlinked legacy dirs)', async () => {
  const out = path.join(dir, 'skopeo-docker.tar');
  await run('skopeo', ['copy', '-q', `oci-archive:${ociTar}`, `docker-archive:${out}:example.com/team/bb:v2`]);
  const other = await Store.open(path.join(dir, 'from-skopeo-docker'));
  const loaded = await loadArchive(other, createReadStream(out), out);
  assert.equal(loaded.length, 1);
  assert.deepEqual(loaded[0]!.names, ['example.com/team/bb:v2']);
  assert.equal(loaded[0]!.id, image.config.digest, 'skopeo keeps the config, so the image ID is ours');
  const manifest = await other.content.readJSON<Manifest>(loaded[0]!.target.digest);
  // The layers were decompressed on the way: uncompressed layers keep diffID = digest.
  assert.deepEqual(manifest.layers.map((l) => l.digest), image.diffIds);
  assert.equal(sha256(await other.content.read(manifest.layers[0]!.digest)), image.diffIds[0]);
});

test('kiln loads what skopeo copy writes as oci-archive, named by its full ref.name', async () => {
  const out = path.join(dir, 'skopeo-oci.tar');
  await run('skopeo', ['copy', '-q', `oci-archive:${ociTar}`, `oci-archive:${out}:example.com/team/bb:v3`]);
  const other = await Store.open(path.join(dir, 'from-skopeo-oci'));
  const loaded = await loadArchive(other, createReadStream(out), out);
  assert.deepEqual(loaded, [{ names: ['example.com/team/bb:v3'], id: image.config.digest, target: image.manifest }]);
  assert.deepEqual((await other.content.fsck()), { checked: 3, corrupt: [] });
});
