// The `docker save` format: kiln's classic writer, and reading classic, blobs/ and gzip-layer variants.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { saveImages } from '../../exporter/image-save.js';
import { loadArchive } from '../../exporter/image-load.js';
import { legacyLayerIds } from '../../exporter/docker-archive.js';
import { ArchiveDigestError, ArchiveFormatError } from '../../exporter/errors.js';
import { Store } from '../../snapshotter/store.js';
import type { ImageConfig } from '../../oci/image-spec.js';
import { readTar, sha256, storeImage, tarOf, withStore } from './image-fixture.js';

type Entry = { name: string; body?: Buffer | string; type?: 'symlink'; linkname?: string };

async function archive(entries: Entry[]): Promise<Buffer> {
  const pack = tar.pack();
  for (const e of entries) {
    if (e.type === 'symlink') pack.entry({ name: e.name, type: 'symlink', linkname: e.linkname! });
    else pack.entry({ name: e.name }, e.body!);
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function configFor(diffIds: string[]): Buffer {
  const config: ImageConfig = { architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: diffIds } };
  return Buffer.from(JSON.stringify(config));
}

test('--format docker writes the classic layout, and load gives back the same manifest, config and layer digests', async () => {
  await withStore(async (store, dir) => {
    const img = await storeImage(store, 'docker.io/library/app:1.0', [[{ name: 'a', body: 'a' }], [{ name: 'b', body: 'b' }]]);
    const out = path.join(dir, 'app.tar');
    await saveImages(store, ['app:1.0'], out, 'docker');
    const files = await readTar(await readFile(out));
    const ids = legacyLayerIds(img.layers);
    const configName = `${img.config.digest.slice(7)}.json`;
    assert.deepEqual(JSON.parse(files.get('manifest.json')!.toString()), [
      { Config: configName, RepoTags: ['app:1.0'], Layers: ids.map((id) => `${id}/layer.tar`) },
    ]);
    assert.deepEqual(JSON.parse(files.get('repositories')!.toString()), { app: { '1.0': ids[1] } });
    assert.deepEqual(JSON.parse(files.get(`${ids[1]}/json`)!.toString()), { id: ids[1], parent: ids[0] });
    assert.equal(sha256(files.get(configName)!), img.config.digest);
    assert.equal(sha256(files.get(`${ids[0]}/layer.tar`)!), img.layers[0]!.digest);
    assert.ok(!files.has('index.json'), 'the classic layout has no OCI index');

    const other = await Store.open(path.join(dir, 'other'));
    const loaded = await loadArchive(other, createReadStream(out), out);
    assert.deepEqual(loaded, [{ names: ['docker.io/library/app:1.0'], id: img.config.digest, target: img.manifest }]);
    assert.deepEqual((await other.content.fsck()).corrupt, []);
  });
});

test('a docker archive with plain-tar layers keeps diffID = digest; skopeo-style symlinked layers are followed', async () => {
  await withStore(async (store) => {
    const layer = await tarOf([{ name: 'hello', body: 'world' }]);
    const diffId = sha256(layer);
    const config = configFor([diffId]);
    const hex = diffId.slice(7);
    const tarball = await archive([
      { name: `${hex}.tar`, body: layer },
      { name: 'legacy/layer.tar', type: 'symlink', linkname: `../${hex}.tar` },
      { name: `${sha256(config).slice(7)}.json`, body: config },
      { name: 'manifest.json', body: JSON.stringify([{ Config: `${sha256(config).slice(7)}.json`, RepoTags: ['localhost:5000/x:y'], Layers: ['legacy/layer.tar'] }]) },
    ]);
    const loaded = await loadArchive(store, Readable.from([tarball]), 'skopeo.tar');
    assert.deepEqual(loaded[0]!.names, ['localhost:5000/x:y']);
    const manifest = await store.content.readJSON<{ layers: { digest: string; mediaType: string }[]; config: { digest: string } }>(loaded[0]!.target.digest);
    assert.equal(manifest.layers[0]!.digest, diffId);
    assert.equal(manifest.layers[0]!.mediaType, 'application/vnd.oci.image.layer.v1.tar');
    assert.equal(manifest.config.digest, sha256(config));
  });
});

test('gzip layers in a blobs/sha256 docker archive are checked against their diffIDs', async () => {
  await withStore(async (store) => {
    const plain = await tarOf([{ name: 'f', body: 'data' }]);
    const gz = gzipSync(plain);
    const good = configFor([sha256(plain)]);
    const entries = (config: Buffer): Entry[] => [
      { name: `blobs/sha256/${sha256(gz).slice(7)}`, body: gz },
      { name: `blobs/sha256/${sha256(config).slice(7)}`, body: config },
      { name: 'manifest.json', body: JSON.stringify([{ Config: `blobs/sha256/${sha256(config).slice(7)}`, RepoTags: ['app:gz'], Layers: [`blobs/sha256/${sha256(gz).slice(7)}`] }]) },
    ];
    const loaded = await loadArchive(store, Readable.from([await archive(entries(good))]), 'gz.tar');
    const manifest = await store.content.readJSON<{ layers: { digest: string; mediaType: string }[] }>(loaded[0]!.target.digest);
    assert.deepEqual(manifest.layers.map((l) => [l.digest, l.mediaType]), [[sha256(gz), 'application/vnd.oci.image.layer.v1.tar+gzip']]);

    const wrongDiffId = sha256('something else');
    await assert.rejects(loadArchive(store, Readable.from([await archive(entries(configFor([wrongDiffId])))]), 'gz.tar'), (err: unknown) => {
      assert.ok(err instanceof ArchiveDigestError);
      assert.match(err.message, new RegExp(`layer ${wrongDiffId} is corrupt \\(layer blobs/sha256/\\w+ unpacks to ${sha256(plain)}\\)`));
      return true;
    });
  });
});

test('a legacy <id>.json config whose content does not match its name is refused; layer counts must match', async () => {
  await withStore(async (store) => {
    const layer = await tarOf([{ name: 'f', body: 'x' }]);
    const config = configFor([sha256(layer)]);
    const fakeHex = 'a'.repeat(64);
    const tampered = await archive([
      { name: 'l/layer.tar', body: layer },
      { name: `${fakeHex}.json`, body: config },
      { name: 'manifest.json', body: JSON.stringify([{ Config: `${fakeHex}.json`, RepoTags: ['t:1'], Layers: ['l/layer.tar'] }]) },
    ]);
    await assert.rejects(loadArchive(store, Readable.from([tampered]), 't.tar'), new RegExp(`blob sha256:${fakeHex} is corrupt`));
    const short = await archive([
      { name: 'c.json', body: config },
      { name: 'manifest.json', body: JSON.stringify([{ Config: 'c.json', RepoTags: ['t:1'], Layers: [] }]) },
    ]);
    await assert.rejects(loadArchive(store, Readable.from([short]), 't.tar'), (err: unknown) =>
      err instanceof ArchiveFormatError && /lists 0 layers but its config has 1 diff_ids/.test(err.message));
    assert.deepEqual(await store.images.list(), []);
  });
});
