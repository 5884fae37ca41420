// Containers through the library (`import { runContainer } from 'kiln'`): run in the foreground
// with captured output, list, commit the change as an image, run that image detached, stop and
// remove it, with the store left holding nothing of the containers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { importBusybox } from '../helpers/kiln-cli.js';

type Kiln = typeof import('../../api/index.js');

test('runContainer, listContainers, commitContainer, stopContainer and removeContainer work from the package entry', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'kiln-api-run-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const root = path.join(dir, 'root');
  await importBusybox(dir, root);
  const kiln = (await import('kiln' as string)) as Kiln;
  const store = await kiln.openStore(root);
  const snapshotter = await kiln.openSnapshots(store);
  const base: Omit<Parameters<Kiln['runContainer']>[2], 'image' | 'command'> = {
    env: [],
    network: 'none',
    mounts: [],
    limits: {},
    tty: false,
    stdin: false,
    init: false,
    runtime: 'kiln',
    autoRemove: false,
  };

  const out: Buffer[] = [];
  const ran = await kiln.runContainer(
    store,
    snapshotter,
    { ...base, image: 'kiln.local/busybox', name: 'writer', command: { cmd: ['sh', '-c', 'echo $$; echo kept > /marker; exit 3'] } },
    { stdout: (c) => out.push(c) },
  );
  assert.equal(ran.detached, false);
  assert.equal(ran.detached === false && ran.exitCode, 3, 'the exit status is the command’s');
  assert.equal(Buffer.concat(out).toString(), '1\n', 'the command is PID 1');

  const containers = kiln.openContainers(root);
  assert.deepEqual(await kiln.listContainers(containers), [], 'nothing runs');
  const all = await kiln.listContainers(containers, { all: true });
  assert.deepEqual(all.map((r) => [r.config.name, r.state.status, r.state.exitCode]), [['writer', 'exited', 3]]);

  const imageId = await kiln.commitContainer(store, snapshotter, 'writer', 'committed:api', { message: 'from the api' });
  const committed = await kiln.resolveImage(store, 'committed:api');
  assert.equal(committed.record.target.mediaType, 'application/vnd.oci.image.manifest.v1+json');
  assert.equal(committed.config.history?.at(-1)?.comment, 'from the api');
  assert.match(imageId, /^sha256:[a-f0-9]{64}$/);
  assert.deepEqual((await store.leases.list()).map((l) => l.id), all.map((r) => r.config.lease), 'the commit let go of its lease; the container keeps its own');

  const seen: Buffer[] = [];
  await kiln.runContainer(store, snapshotter, { ...base, image: 'committed:api', name: 'reader', command: { cmd: ['cat', '/marker'] } }, { stdout: (c) => seen.push(c) });
  assert.equal(Buffer.concat(seen).toString(), 'kept\n', 'the committed image holds the change');
  const detached = await kiln.runContainer(store, snapshotter, { ...base, image: 'committed:api', name: 'daemon', command: { cmd: ['sleep', '60'] }, detach: true });
  assert.equal(detached.detached, true);
  assert.deepEqual((await kiln.listContainers(containers)).map((r) => r.config.name), ['daemon']);
  await kiln.stopContainer(containers, 'daemon', 1000);
  const stopped = (await kiln.listContainers(containers, { all: true })).find((r) => r.config.name === 'daemon');
  assert.equal(stopped?.state.status, 'exited');
  assert.equal(stopped?.state.exitCode, 137, 'sleep ignores SIGTERM as PID 1, so the grace period ends in SIGKILL');

  for (const name of ['writer', 'reader', 'daemon']) await kiln.removeContainer(store, snapshotter, name);
  assert.deepEqual(await kiln.listContainers(containers, { all: true }), []);
});
