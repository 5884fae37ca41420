// Image records on real files: round trip, corruption, concurrent writers in two processes, and
// resolving what a user types to a record, manifest and config.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ImageStore } from '../../snapshotter/images.js';
import { MediaType } from '../../oci/image-spec.js';
import { Store } from '../../snapshotter/store.js';
import { resolveImage } from '../../snapshotter/image-read.js';

const imagesUrl = pathToFileURL(path.resolve(fileURLToPath(import.meta.url), '../../../snapshotter/images.js')).href;
const target = (n: number) => ({ mediaType: MediaType.ociManifest, digest: 'sha256:' + n.toString(16).padStart(64, '0'), size: 100 + n });

async function tempRoot(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const root = await mkdtemp(path.join(tmpdir(), 'kiln-images-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  return root;
}

test('put, get, list, repoint and delete persist across instances', async (t) => {
  const root = await tempRoot(t);
  const a = new ImageStore(root);
  assert.deepEqual(await a.list(), []);
  await a.put({ name: 'docker.io/library/busybox:latest', target: target(1), created: '2024-01-01T00:00:00.000Z' });
  await a.put({ name: 'localhost:5000/app:1', target: target(2), created: '2024-01-02T00:00:00.000Z' });
  const b = new ImageStore(root);
  assert.deepEqual(await b.get('localhost:5000/app:1'), { name: 'localhost:5000/app:1', target: target(2), created: '2024-01-02T00:00:00.000Z' });
  assert.deepEqual((await b.list()).map((r) => r.name), ['docker.io/library/busybox:latest', 'localhost:5000/app:1']);
  await b.put({ name: 'localhost:5000/app:1', target: target(3), created: '2024-01-03T00:00:00.000Z' });
  assert.deepEqual((await a.get('localhost:5000/app:1'))?.target, target(3));
  assert.equal(await a.get('constructor'), undefined, 'prototype names are not records');
  assert.equal(await a.delete('docker.io/library/busybox:latest'), true);
  assert.equal(await a.delete('docker.io/library/busybox:latest'), false);
  assert.deepEqual((await b.list()).map((r) => r.name), ['localhost:5000/app:1']);
  await assert.rejects(a.put({ name: 'x', target: { ...target(1), digest: 'sha256:nothex' }, created: '' }), { code: 'KILN_INVALID_DIGEST' });
});

test('pointing a name at the target it already has writes nothing and keeps its time', async (t) => {
  const root = await tempRoot(t);
  const images = new ImageStore(root);
  await images.put({ name: 'localhost:5000/app:1', target: target(1), created: '2024-01-01T00:00:00.000Z' });
  const before = await stat(path.join(root, 'images.json'));
  await images.put({ name: 'localhost:5000/app:1', target: target(1), created: '2024-02-01T00:00:00.000Z' });
  assert.equal((await stat(path.join(root, 'images.json'))).ino, before.ino, 'images.json was not replaced');
  assert.equal((await images.get('localhost:5000/app:1'))?.created, '2024-01-01T00:00:00.000Z');
  await images.put({ name: 'localhost:5000/app:1', target: { ...target(1), size: 7 }, created: '2024-03-01T00:00:00.000Z' });
  assert.deepEqual(await images.get('localhost:5000/app:1'), { name: 'localhost:5000/app:1', target: { ...target(1), size: 7 }, created: '2024-03-01T00:00:00.000Z' });
});

test('a corrupt images.json is a typed error naming the file', async (t) => {
  const root = await tempRoot(t);
  await writeFile(path.join(root, 'images.json'), '{"images": ');
  await assert.rejects(new ImageStore(root).list(), (e: Error & { code?: string }) => e.code === 'KILN_STORE_CORRUPT' && e.message.includes('images.json'));
  await writeFile(path.join(root, 'images.json'), '[]');
  await assert.rejects(new ImageStore(root).get('a'), { code: 'KILN_STORE_CORRUPT' });
});

test('records put concurrently by two processes all survive', async (t) => {
  const root = await tempRoot(t);
  // Both start at the same instant, so their read-modify-writes overlap.
  const startAt = Date.now() + 400;
  const code = (who: string) => `
    import { ImageStore } from ${JSON.stringify(imagesUrl)};
    const store = new ImageStore(${JSON.stringify(root)});
    await new Promise((r) => setTimeout(r, ${startAt} - Date.now()));
    await Promise.all(Array.from({ length: 40 }, (_, i) => store.put({
      name: 'example.com/${who}:' + i,
      target: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: 'sha256:' + i.toString(16).padStart(64, '0'), size: i },
      created: new Date().toISOString(),
    })));
  `;
  const runs = ['one', 'two'].map((who) => {
    const p = spawn(process.execPath, ['--input-type=module', '-e', code(who)], { stdio: ['ignore', 'inherit', 'pipe'] });
    let err = '';
    p.stderr!.on('data', (d: Buffer) => (err += d));
    return new Promise<{ code: number | null; err: string }>((resolve) => p.on('close', (c) => resolve({ code: c, err })));
  });
  for (const r of await Promise.all(runs)) assert.equal(r.code, 0, r.err);
  const names = (await new ImageStore(root).list()).map((r) => r.name);
  assert.equal(names.length, 80);
  for (let i = 0; i < 40; i++) {
    assert.ok(names.includes(`example.com/one:${i}`));
    assert.ok(names.includes(`example.com/two:${i}`));
  }
});

test('resolveImage finds by short name, repo@digest, manifest digest and image ID; picks or refuses a platform, for an index and a single image', async (t) => {
  const root = await tempRoot(t);
  const store = await Store.open(root);
  const image = async (arch: string, payload: string) => {
    const layer = await store.content.write(payload);
    const config = await store.content.write(JSON.stringify({ architecture: arch, os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [layer.digest] } }));
    const manifest = await store.content.write(
      JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociManifest, config: { mediaType: MediaType.ociConfig, ...config }, layers: [{ mediaType: MediaType.ociLayer, ...layer }] }),
    );
    return { desc: { mediaType: MediaType.ociManifest, ...manifest, platform: { os: 'linux', architecture: arch } }, config: config.digest };
  };
  const amd = await image('amd64', 'amd');
  const arm = await image('arm64', 'arm');
  const idx = await store.content.write(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [arm.desc, amd.desc] }));
  await store.images.put({ name: 'docker.io/library/multi:latest', target: { mediaType: MediaType.ociIndex, ...idx }, created: '' });
  const s390 = await image('s390x', 'big-endian');
  await store.images.put({ name: 'example.com/only/s390x:1', target: s390.desc, created: '' });

  const linux = (architecture: string) => ({ os: 'linux', architecture });
  const byName = await resolveImage(store, 'multi', linux('arm64'));
  assert.equal(byName.name, 'docker.io/library/multi:latest');
  assert.equal(byName.manifestDigest, arm.desc.digest);
  assert.equal(byName.configDigest, arm.config);
  assert.equal((await resolveImage(store, 'multi', linux('amd64'))).manifestDigest, amd.desc.digest);
  assert.equal((await resolveImage(store, `multi@${idx.digest}`, linux('amd64'))).name, 'docker.io/library/multi:latest');
  assert.equal((await resolveImage(store, idx.digest, linux('amd64'))).configDigest, amd.config);
  assert.equal((await resolveImage(store, s390.config.slice(7, 19), linux('s390x'))).name, 'example.com/only/s390x:1');
  assert.equal((await resolveImage(store, s390.config, linux('s390x'))).name, 'example.com/only/s390x:1');

  await assert.rejects(
    resolveImage(store, 'multi', linux('riscv64')),
    (e: Error & { code?: string }) => e.code === 'KILN_PLATFORM_NOT_FOUND' && /linux\/riscv64/.test(e.message) && /linux\/arm64, linux\/amd64/.test(e.message),
  );
  // A single-platform image is checked against a requested platform by its config, never taken for it.
  await assert.rejects(
    resolveImage(store, 'example.com/only/s390x:1', linux('amd64')),
    (e: Error & { code?: string }) => e.code === 'KILN_PLATFORM_NOT_FOUND' && e.message.includes('"example.com/only/s390x:1" has no manifest for platform linux/amd64 (it has: linux/s390x)'),
  );
  assert.equal((await resolveImage(store, 'example.com/only/s390x:1')).configDigest, s390.config, 'without a platform (inspect, tag) any single image resolves');
  await assert.rejects(resolveImage(store, 'busybox'), (e: Error & { code?: string }) => e.code === 'KILN_IMAGE_NOT_FOUND' && e.message.includes('"busybox"'));
  await assert.rejects(resolveImage(store, 'NotValid'), { code: 'KILN_INVALID_REFERENCE' });
});
