// Multi-platform images through the library: pull picks one platform of an index (the store then
// holds the index and that platform only, and says so when asked to push it all), pull -a takes
// every platform, and push then sends the index with all its manifests.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Store } from '../../snapshotter/store.js';
import { ContentStore } from '../../snapshotter/content.js';
import { RegistryClient } from '../../registry/client.js';
import { fetchManifest } from '../../registry/manifest-resolve.js';
import { MediaType } from '../../oci/image-spec.js';
import { pull } from '../../api/pull.js';
import { push } from '../../api/push.js';
import { startRegistry, type RegistryServer } from '../helpers/registry.js';
import { pushTwoPlatformIndex } from './image-fixture.js';

describe('multi-platform pull and push', () => {
  let reg: RegistryServer;
  let dir: string;
  let indexDigest: string;
  let armDigest: string;
  const env = (): NodeJS.ProcessEnv => ({ HOME: dir });

  before(async () => {
    reg = await startRegistry();
    dir = await mkdtemp(path.join(tmpdir(), 'kiln-platforms-'));
    const src = new ContentStore(path.join(dir, 'src'));
    const client = new RegistryClient(reg.host, { env: env() });
    const pushed = await pushTwoPlatformIndex(client, src, 'multi/app', '1');
    indexDigest = pushed.indexDigest;
    armDigest = pushed.arm.manifestDigest;
    await client.close();
  });
  after(async () => {
    await reg.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('pulls one platform, refuses to push the partial index, pulls all with -a and pushes the whole index', async () => {
    const store = await Store.open(path.join(dir, 'store'));
    const one = await pull(store, `${reg.host}/multi/app:1`, { env: env(), platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } });
    assert.equal(one.target.digest, indexDigest);
    assert.equal(await store.content.has(armDigest), true);
    assert.equal((await store.content.list()).length, 4, 'the index, the arm64 manifest, its config and layer');
    await store.images.put({ name: `${reg.host}/copy/app:1`, target: one.target, created: new Date().toISOString() });
    await assert.rejects(push(store, `${reg.host}/copy/app:1`, { env: env() }), (err: Error & { code?: string }) => err.code === 'KILN_IMAGE_PARTIAL');

    await pull(store, `${reg.host}/multi/app:1`, { env: env(), allPlatforms: true });
    assert.equal((await store.content.list()).length, 7);
    const statuses: string[] = [];
    const pushed = await push(store, `${reg.host}/copy/app:1`, { env: env(), onEvent: (e) => e.type === 'blob' && statuses.push(e.status) });
    assert.deepEqual(pushed.map((p) => p.digest), [indexDigest]);
    assert.deepEqual(statuses, ['mounted', 'mounted', 'mounted', 'mounted'], 'every blob mounts from multi/app');
    const client = new RegistryClient(reg.host, { env: env() });
    const got = await fetchManifest(client, 'copy/app', '1', 'copy/app:1');
    assert.equal(got.digest, indexDigest);
    assert.equal(got.mediaType, MediaType.ociIndex);
    await client.close();
  });
});
