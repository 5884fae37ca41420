// The docker-image source over a real store: unpacking layers into chainID-keyed snapshots with
// the layer label, reuse on a second unpack, and the error for an image that is not there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { storeImage } from '../../exporter/image-fixture.js';
import { LAYER_LABEL } from '../../../snapshotter/unpack.js';
import { chainIds } from '../../../snapshotter/gc.js';
import { executorFor } from '../../../solver/executors/index.js';
import { ImageNotFoundError } from '../../../snapshotter/errors.js';
import { listTree, openFixture, vertex, withView } from './fixture.js';

const imageOp = (ref: string) => ({ source: { identifier: `docker-image://${ref}` }, platform: { os: 'linux', architecture: 'amd64' } });

test('an image in the store unpacks into one committed snapshot per layer, keyed by chainID', async () => {
  const fx = await openFixture();
  try {
    const img = await storeImage(fx.env.store, 'docker.io/library/two:latest', [
      [{ name: 'etc/', type: 'directory' }, { name: 'etc/a', body: 'one' }, { name: 'gone', body: 'x' }],
      [{ name: 'etc/b', body: 'two' }, { name: '.wh.gone' }],
    ]);
    const v = vertex(imageOp('docker.io/library/two:latest'));
    const exec = executorFor(v.op);
    assert.equal(await exec.contentKey!(v, fx.env), img.manifest.digest);
    const [result] = await exec.run(v, [], fx.env, () => undefined);
    const chain = chainIds(img.diffIds);
    assert.equal(chain[0], img.diffIds[0]);
    assert.equal(result!.snapshot, chain[1]);
    const top = await fx.snapshotter.stat(chain[1]!);
    assert.equal(top?.kind, 'committed');
    assert.equal(top?.parent, chain[0]);
    assert.deepEqual(JSON.parse(top!.labels[LAYER_LABEL]!), {
      digest: img.layers[1]!.digest, diffId: img.diffIds[1], size: img.layers[1]!.size, mediaType: img.layers[1]!.mediaType,
    });
    assert.deepEqual(await withView(fx, result!.snapshot!, (d) => listTree(d)), { etc: '/', 'etc/a': 'one', 'etc/b': 'two' });

    // A second unpack (another build) finds the snapshots and makes none.
    const before = (await fx.snapshotter.list()).length;
    const [again] = await exec.run(v, [], fx.env, () => undefined);
    assert.equal(again!.snapshot, chain[1]);
    assert.equal((await fx.snapshotter.list()).length, before);
  } finally {
    await fx.cleanup();
  }
});

test('an image missing from the store is a user-facing error naming it and how to add it', async () => {
  const fx = await openFixture();
  try {
    const v = vertex(imageOp('docker.io/library/nothere:1'));
    await assert.rejects(executorFor(v.op).run(v, [], fx.env, () => undefined), (err: unknown) => {
      assert.ok(err instanceof ImageNotFoundError);
      assert.equal(err.code, 'KILN_IMAGE_NOT_FOUND', 'one code for a missing image, a base image or not');
      assert.equal(err.userFacing, true);
      assert.match(err.message, /^base image "docker\.io\/library\/nothere:1" is not in the store at /);
      assert.match(err.message, /docker\.io\/library\/nothere:1/);
      assert.match(err.message, /kiln import/);
      assert.match(err.message, /kiln load/);
      return true;
    });
  } finally {
    await fx.cleanup();
  }
});

test('executorFor refuses ops kiln cannot run with a typed error', () => {
  assert.throws(() => executorFor({ source: { identifier: 'git://github.com/x/y' } }), { code: 'KILN_UNSUPPORTED_OP' });
  assert.throws(() => executorFor({ diff: {} }), { code: 'KILN_UNSUPPORTED_OP' });
});
