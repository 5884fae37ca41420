// `kiln save` (OCI layout + docker manifest.json) and `kiln load` of it, on real stores and files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { saveImages } from '../../exporter/image-save.js';
import { loadArchive } from '../../exporter/image-load.js';
import { ArchiveDigestError, ArchiveFormatError, ArchiveMissingBlobError } from '../../exporter/errors.js';
import { hostPlatform } from '../../oci/platform.js';
import { Store } from '../../snapshotter/store.js';
import type { Index, Manifest } from '../../oci/image-spec.js';
import { readTar, sha256, storeImage, withStore } from './image-fixture.js';

async function tarFrom(files: Map<string, Buffer>): Promise<Buffer> {
  const pack = tar.pack();
  for (const [name, body] of files) pack.entry({ name }, body);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

test('save writes an OCI layout with containerd/OCI name annotations and a docker manifest.json', async () => {
  await withStore(async (store, dir) => {
    const img = await storeImage(store, 'docker.io/library/app:1.0', [[{ name: 'etc/', type: 'directory' }, { name: 'etc/hello', body: 'hi' }], [{ name: 'data', body: 'x' }]]);
    const out = path.join(dir, 'app.tar');
    await saveImages(store, ['app:1.0'], out, 'oci');
    const files = await readTar(await readFile(out));
    assert.deepEqual(JSON.parse(files.get('oci-layout')!.toString()), { imageLayoutVersion: '1.0.0' });
    const index = JSON.parse(files.get('index.json')!.toString()) as Index;
    assert.equal(index.manifests.length, 1);
    assert.equal(index.manifests[0]!.digest, img.manifest.digest);
    assert.deepEqual(index.manifests[0]!.annotations, {
      'io.containerd.image.name': 'docker.io/library/app:1.0',
      'org.opencontainers.image.ref.name': '1.0',
    });
    const hex = (d: string) => `blobs/sha256/${d.slice(7)}`;
    for (const d of [img.manifest, img.config, ...img.layers]) {
      assert.equal(sha256(files.get(hex(d.digest))!), d.digest, `blob ${d.digest} present and intact`);
    }
    assert.deepEqual(JSON.parse(files.get('manifest.json')!.toString()), [
      { Config: hex(img.config.digest), RepoTags: ['app:1.0'], Layers: img.layers.map((l) => hex(l.digest)) },
    ]);
    // Saving again gives the same bytes: fixed mtimes and owners.
    const again = path.join(dir, 'again.tar');
    await saveImages(store, ['docker.io/library/app:1.0'], again, 'oci');
    assert.deepEqual(await readFile(again), await readFile(out));
  });
});

test('load of a saved OCI archive restores the same names and digests into another store', async () => {
  await withStore(async (store, dir) => {
    const a = await storeImage(store, 'docker.io/library/app:1.0', [[{ name: 'a', body: 'a' }]]);
    const b = await storeImage(store, 'registry.example.com/team/b:2', [[{ name: 'b', body: 'b' }]], { gzip: false });
    const out = path.join(dir, 'two.tar');
    await saveImages(store, ['app:1.0', 'registry.example.com/team/b:2'], out, 'oci');
    const other = await Store.open(path.join(dir, 'other'));
    const stored: string[] = [];
    const loaded = await loadArchive(other, createReadStream(out), out, { onBlob: (d) => stored.push(d) });
    assert.deepEqual(loaded.map((l) => l.names), [['docker.io/library/app:1.0'], ['registry.example.com/team/b:2']]);
    assert.equal((await other.images.get('docker.io/library/app:1.0'))?.target.digest, a.manifest.digest);
    assert.equal((await other.images.get('registry.example.com/team/b:2'))?.target.digest, b.manifest.digest);
    assert.deepEqual(stored.sort(), [a.manifest, a.config, ...a.layers, b.manifest, b.config, ...b.layers].map((d) => d.digest).sort());
    assert.deepEqual((await other.content.fsck()).corrupt, []);
    assert.equal(loaded[0]!.id, a.config.digest);
    // The ingest area is left empty: staged files were moved or removed.
    assert.deepEqual((await other.content.list()).length, 6);
    assert.deepEqual(await readdir(path.join(other.root, 'ingest')), []);
  });
});

test('load reads a gzip-compressed archive from a stream', async () => {
  await withStore(async (store, dir) => {
    const a = await storeImage(store, 'docker.io/library/app:1.0', [[{ name: 'a', body: 'a' }]]);
    const out = path.join(dir, 'a.tar');
    await saveImages(store, ['app:1.0'], out, 'oci');
    const other = await Store.open(path.join(dir, 'other'));
    const loaded = await loadArchive(other, Readable.from([gzipSync(await readFile(out))]), 'stdin');
    assert.equal(loaded[0]!.target.digest, a.manifest.digest);
  });
});

test('a corrupted blob is refused naming its digest, and nothing is recorded', async () => {
  await withStore(async (store, dir) => {
    const a = await storeImage(store, 'docker.io/library/app:1.0', [[{ name: 'a', body: 'original content' }]]);
    const out = path.join(dir, 'a.tar');
    await saveImages(store, ['app:1.0'], out, 'oci');
    const files = await readTar(await readFile(out));
    const layerName = `blobs/sha256/${a.layers[0]!.digest.slice(7)}`;
    const bad = Buffer.from(files.get(layerName)!);
    bad[bad.length - 5] ^= 0xff;
    files.set(layerName, bad);
    const corrupt = path.join(dir, 'corrupt.tar');
    await writeFile(corrupt, await tarFrom(files));
    const other = await Store.open(path.join(dir, 'other'));
    await assert.rejects(loadArchive(other, createReadStream(corrupt), corrupt), (err: unknown) => {
      assert.ok(err instanceof ArchiveDigestError);
      assert.equal(err.code, 'KILN_ARCHIVE_DIGEST');
      assert.ok(err.message.includes(a.layers[0]!.digest), err.message);
      assert.ok(err.message.includes(corrupt));
      return true;
    });
    assert.deepEqual(await other.images.list(), []);
    assert.deepEqual(await other.content.list(), []);
    assert.deepEqual(await readdir(path.join(other.root, 'ingest')), []);
  });
});

test('a layout missing a layer blob, or with a wrong size, is refused', async () => {
  await withStore(async (store, dir) => {
    const a = await storeImage(store, 'docker.io/library/app:1.0', [[{ name: 'a', body: 'a' }]]);
    const out = path.join(dir, 'a.tar');
    await saveImages(store, ['app:1.0'], out, 'oci');
    const files = await readTar(await readFile(out));
    const other = await Store.open(path.join(dir, 'other'));

    const missing = new Map(files);
    missing.delete(`blobs/sha256/${a.layers[0]!.digest.slice(7)}`);
    await assert.rejects(loadArchive(other, Readable.from([await tarFrom(missing)]), 'x.tar'), (err: unknown) =>
      err instanceof ArchiveMissingBlobError && err.message.includes(a.layers[0]!.digest) && err.message.includes(`manifest ${a.manifest.digest}`));

    // A manifest claiming another size for a layer: the manifest itself changes, so re-point the index.
    const manifest = JSON.parse(files.get(`blobs/sha256/${a.manifest.digest.slice(7)}`)!.toString()) as Manifest;
    manifest.layers[0]!.size += 1;
    const mdata = Buffer.from(JSON.stringify(manifest));
    const resized = new Map(files);
    resized.set(`blobs/sha256/${sha256(mdata).slice(7)}`, mdata);
    resized.set('index.json', Buffer.from(JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha256(mdata), size: mdata.length }] })));
    await assert.rejects(loadArchive(other, Readable.from([await tarFrom(resized)]), 'x.tar'), /is corrupt \(it is \d+ bytes where manifest sha256:\w+ says \d+\)/);
    assert.deepEqual(await other.images.list(), []);
  });
});

test('an archive that is neither layout is refused as such; so is a non-tar', async () => {
  await withStore(async (store) => {
    const plain = await tarFrom(new Map([['hello.txt', Buffer.from('hi')]]));
    await assert.rejects(loadArchive(store, Readable.from([plain]), 'x.tar'), (err: unknown) =>
      err instanceof ArchiveFormatError && /neither an OCI image layout/.test(err.message));
    await assert.rejects(loadArchive(store, Readable.from([Buffer.alloc(2000, 7)]), 'junk.bin'), (err: unknown) =>
      err instanceof ArchiveFormatError && /junk\.bin: not a readable tar archive/.test(err.message));
    await assert.rejects(loadArchive(store, Readable.from([Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0, 0])]), 'z.tar.zst'), /zstd-compressed archives are not supported/);
  });
});

test('an OCI layout whose ref.name is a bare tag loads unnamed, with its image ID', async () => {
  await withStore(async (store, dir) => {
    const a = await storeImage(store, 'docker.io/library/app:1.0', [[{ name: 'a', body: 'a' }]]);
    const out = path.join(dir, 'a.tar');
    await saveImages(store, ['app:1.0'], out, 'oci');
    const files = await readTar(await readFile(out));
    files.set('index.json', Buffer.from(JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: a.manifest.digest, size: a.manifest.size, annotations: { 'org.opencontainers.image.ref.name': 'v1' } }] })));
    files.delete('manifest.json');
    const other = await Store.open(path.join(dir, 'other'));
    const loaded = await loadArchive(other, Readable.from([await tarFrom(files)]), 'x.tar');
    assert.deepEqual(loaded, [{ names: [], id: a.config.digest, target: a.manifest }]);
  });
});

test('a multi-platform image is saved whole; with a platform missing, as the host platform manifest', async () => {
  await withStore(async (store, dir) => {
    const host = hostPlatform();
    const mine = await storeImage(store, 'tmp/host:1', [[{ name: 'host', body: 'h' }]]);
    const other = await storeImage(store, 'tmp/other:1', [[{ name: 'other', body: 'o' }]]);
    const index = Buffer.from(JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        { ...mine.manifest, platform: host },
        { ...other.manifest, platform: { architecture: host.architecture === 's390x' ? 'arm64' : 's390x', os: 'linux' } },
      ],
    }));
    const info = await store.content.write(index);
    const target = { mediaType: 'application/vnd.oci.image.index.v1+json', digest: info.digest, size: info.size };
    await store.images.put({ name: 'docker.io/library/multi:1', target, created: new Date().toISOString() });

    const out = path.join(dir, 'multi.tar');
    await saveImages(store, ['multi:1'], out, 'oci');
    let files = await readTar(await readFile(out));
    assert.equal((JSON.parse(files.get('index.json')!.toString()) as Index).manifests[0]!.digest, info.digest);
    for (const d of [mine.manifest, ...mine.layers, other.manifest, ...other.layers]) assert.ok(files.has(`blobs/sha256/${d.digest.slice(7)}`));
    assert.equal(JSON.parse(files.get('manifest.json')!.toString())[0].Config, `blobs/sha256/${mine.config.digest.slice(7)}`);

    await store.content.delete(other.layers[0]!.digest);
    await saveImages(store, ['multi:1'], out, 'oci');
    files = await readTar(await readFile(out));
    assert.equal((JSON.parse(files.get('index.json')!.toString()) as Index).manifests[0]!.digest, mine.manifest.digest);
    assert.ok(!files.has(`blobs/sha256/${other.manifest.digest.slice(7)}`));
  });
});
