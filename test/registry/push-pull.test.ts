// The distribution client against a real registry over plain HTTP: push (monolithic and chunked),
// HEAD skip on a second push, cross-repository mount, resolving tags and indexes by platform, and
// fetching blobs into a real content store.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ContentStore } from '../../snapshotter/content.js';
import { RegistryClient } from '../../registry/client.js';
import { pushImage, type PushOutcome } from '../../registry/push.js';
import { fetchManifest, resolveManifest } from '../../registry/manifest-resolve.js';
import { fetchBlobs } from '../../registry/blob-fetch.js';
import { MediaType } from '../../oci/image-spec.js';
import { startRegistry, type RegistryServer } from '../helpers/registry.js';
import { makeImage, pushTwoPlatformIndex } from './image-fixture.js';
import { storeSink } from '../../api/pull.js';

const MiB = 1024 * 1024;

describe('registry client over plain HTTP', () => {
  let reg: RegistryServer;
  let dir: string;
  let src: ContentStore;
  let client: RegistryClient;

  before(async () => {
    reg = await startRegistry();
    dir = await mkdtemp(path.join(tmpdir(), 'kiln-reg-test-'));
    src = new ContentStore(path.join(dir, 'src'));
    client = new RegistryClient(reg.host, { env: { HOME: dir } });
  });
  after(async () => {
    await client.close();
    await reg.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('pushes small blobs whole and large ones in chunks, then a second push uploads nothing', async () => {
    const img = await makeImage(src, [1000, 3 * MiB]);
    const outcomes: PushOutcome[] = [];
    const opts = { chunkThreshold: MiB, chunkSize: 512 * 1024, onBlob: (_d: unknown, o: PushOutcome) => outcomes.push(o) };
    const digest = await pushImage(client, 'team/app', { ...img.push, tag: 'v1' }, 'app:v1', opts);
    assert.equal(digest, img.manifestDigest);
    assert.deepEqual(outcomes, ['pushed', 'pushed', 'pushed']);
    const log1 = await reg.requests();
    assert.ok(log1.filter((r) => r.method === 'PATCH').length >= 6, 'the 3 MiB layer went as 512 KiB chunks');

    outcomes.length = 0;
    await pushImage(client, 'team/app', { ...img.push, tag: 'v1' }, 'app:v1', opts);
    assert.deepEqual(outcomes, ['exists', 'exists', 'exists']);
    const log2 = (await reg.requests()).slice(log1.length);
    assert.deepEqual(log2.filter((r) => r.method !== 'HEAD').map((r) => r.method), ['PUT'], 'only the manifest is put again');
  });

  it('resolves the tag and fetches every blob into the store, verified', async () => {
    const img = await makeImage(src, [2000, 2 * MiB], { docker: true });
    await pushImage(client, 'team/pull', { ...img.push, tag: 'latest' }, 'pull:latest');
    const resolved = await resolveManifest(client, 'team/pull', 'latest', { os: 'linux', architecture: 'amd64' }, 'pull:latest');
    assert.equal(resolved.manifest.digest, img.manifestDigest);
    assert.equal(resolved.manifest.mediaType, MediaType.dockerManifest);
    const dst = new ContentStore(path.join(dir, 'dst'));
    const seen: string[] = [];
    await fetchBlobs(client, 'team/pull', [resolved.parsed.config, ...resolved.parsed.layers], storeSink(dst), 'pull:latest', { onBlob: (_d, o) => seen.push(o) });
    assert.deepEqual(seen, ['fetched', 'fetched', 'fetched']);
    for (const b of img.blobs) assert.deepEqual(await readFile(dst.blobPath(b.digest)), await readFile(src.blobPath(b.digest)));
    seen.length = 0;
    await fetchBlobs(client, 'team/pull', img.blobs, storeSink(dst), 'pull:latest', { onBlob: (_d, o) => seen.push(o) });
    assert.deepEqual(seen, ['present', 'present', 'present']);
    assert.deepEqual(await readdir(path.join(dst.root, 'ingest')), []);
  });

  it('mounts blobs from another repository of the same registry', async () => {
    const img = await makeImage(src, [5000]);
    await pushImage(client, 'base/one', { ...img.push, tag: '1' }, 'one:1');
    const outcomes: PushOutcome[] = [];
    const again = { ...img.push, blobs: img.push.blobs.map((b) => ({ ...b, mountFrom: ['base/one'] })), tag: '1' };
    await pushImage(client, 'other/two', again, 'two:1', { onBlob: (_d, o) => outcomes.push(o) });
    assert.deepEqual(outcomes, ['mounted', 'mounted']);
    const fetched = await fetchManifest(client, 'other/two', '1', 'two:1');
    assert.equal(fetched.digest, img.manifestDigest);
  });

  it('picks the platform of an index as containerd does, and lists them when one is missing', async () => {
    const { indexDigest, arm } = await pushTwoPlatformIndex(client, src, 'multi/app', 'latest');
    const got = await resolveManifest(client, 'multi/app', 'latest', { os: 'linux', architecture: 'arm64' }, 'multi/app:latest');
    assert.equal(got.top.digest, indexDigest);
    assert.equal(got.manifest.digest, arm.manifestDigest);
    await assert.rejects(resolveManifest(client, 'multi/app', 'latest', { os: 'linux', architecture: 's390x' }, 'multi/app:latest'), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'KILN_PLATFORM_NOT_FOUND');
      assert.match(err.message, /linux\/s390x .*it has: linux\/amd64, linux\/arm64\/v8/);
      return true;
    });
  });

  it('names a missing tag clearly', async () => {
    await assert.rejects(fetchManifest(client, 'team/app', 'nope', 'app:nope'), (err: Error & { code?: string }) => err.code === 'KILN_MANIFEST_UNKNOWN' && /app:nope: not found/.test(err.message));
  });
});
