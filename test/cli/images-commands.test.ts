// The image commands (images, tag, rmi, history, inspect, prune) run as a user runs them: the real
// bin/kiln.js in a child process, on a store seeded through the store API.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Store } from '../../snapshotter/store.js';
import { MediaType, type Descriptor, type HistoryEntry, type ImageConfig, type Index, type Manifest, type Platform } from '../../oci/image-spec.js';

const repo = path.resolve(fileURLToPath(import.meta.url), '../../../..');
const kilnBin = path.join(repo, 'bin', 'kiln.js');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [kilnBin, ...args], { env: { ...process.env, ...env } }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const kiln = (root: string, ...args: string[]): Promise<Run> => run([...args, '--root', root], { KILN_ROOT: '' });

interface Seeded {
  manifest: Descriptor;
  configDigest: string;
  blobs: string[];
}

async function seedImage(
  store: Store,
  opts: { layers: number[]; created: string; history?: HistoryEntry[]; platform?: Platform },
): Promise<Seeded> {
  const platform = opts.platform ?? { os: 'linux', architecture: 'amd64' };
  const layers: Descriptor[] = [];
  for (const size of opts.layers) layers.push({ mediaType: MediaType.ociLayerGzip, ...(await store.content.write(randomBytes(size))) });
  const config: ImageConfig = {
    created: opts.created,
    ...platform,
    config: { Cmd: ['sh'] },
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) },
    ...(opts.history && { history: opts.history }),
  };
  const cfg = await store.content.write(JSON.stringify(config));
  const manifest: Manifest = { schemaVersion: 2, mediaType: MediaType.ociManifest, config: { mediaType: MediaType.ociConfig, ...cfg }, layers };
  const m = await store.content.write(JSON.stringify(manifest));
  return { manifest: { mediaType: MediaType.ociManifest, ...m, platform }, configDigest: cfg.digest, blobs: [m.digest, cfg.digest, ...layers.map((l) => l.digest)] };
}

const ago = (ms: number): string => new Date(Date.now() - ms).toISOString();
const short = (digest: string): string => digest.slice(7, 19);
const addCmd = '/bin/sh -c #(nop) ADD file:0123456789abcdef0123456789abcdef0123456789abcdef in / ';

async function seededStore(t: { after(fn: () => Promise<void>): void }) {
  const root = await mkdtemp(path.join(tmpdir(), 'kiln-cli-images-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const store = await Store.open(root);
  const busybox = await seedImage(store, {
    layers: [1_234_567, 2_000_000],
    created: ago(3 * 3600_000),
    history: [
      { created: ago(5 * 86400_000), created_by: addCmd },
      { created: ago(5 * 86400_000), created_by: '/bin/sh -c #(nop)  CMD ["sh"]', empty_layer: true },
      { created: ago(3 * 3600_000), created_by: 'RUN /bin/sh -c echo hi > /hi # buildkit', comment: 'buildkit.dockerfile.v0' },
    ],
  });
  await store.images.put({ name: 'docker.io/library/busybox:latest', target: busybox.manifest, created: ago(0) });

  const amd = await seedImage(store, { layers: [150], created: ago(20 * 60_000) });
  const arm = await seedImage(store, { layers: [170], created: ago(20 * 60_000), platform: { os: 'linux', architecture: 'arm64' } });
  const index: Index = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [arm.manifest, amd.manifest] };
  const idx = await store.content.write(JSON.stringify(index));
  await store.images.put({ name: 'localhost:5000/app:1', target: { mediaType: MediaType.ociIndex, ...idx }, created: ago(0) });
  return { root, store, busybox, amd, arm, indexDigest: idx.digest };
}

test('images lists names, IDs (config digest), ages and sizes as docker does; --digests, -q, --format json', async (t) => {
  const { root, busybox, amd, indexDigest } = await seededStore(t);
  const table = await kiln(root, 'images');
  assert.equal(table.code, 0, table.stderr);
  assert.equal(
    table.stdout,
    'REPOSITORY           TAG       IMAGE ID       CREATED          SIZE\n' +
      `localhost:5000/app   1         ${short(amd.configDigest)}   20 minutes ago   150B\n` +
      `busybox              latest    ${short(busybox.configDigest)}   3 hours ago      3.23MB\n`,
  );

  const digests = await kiln(root, 'images', '--digests');
  assert.match(digests.stdout.split('\n')[0]!, /^REPOSITORY\s+TAG\s+DIGEST\s+IMAGE ID\s+CREATED\s+SIZE$/);
  assert.ok(digests.stdout.split('\n')[1]!.includes(`1         ${indexDigest}   ${short(amd.configDigest)}`));

  const quiet = await kiln(root, 'images', '-q');
  assert.equal(quiet.stdout, `${short(amd.configDigest)}\n${short(busybox.configDigest)}\n`);

  const json = await kiln(root, 'images', '--format', 'json');
  const rows = json.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, string>);
  assert.deepEqual(
    rows.map((r) => [r.Repository, r.Tag, r.ID, r.Size, r.Digest, r.CreatedSince]),
    [
      ['localhost:5000/app', '1', short(amd.configDigest), '150B', indexDigest, '20 minutes ago'],
      ['busybox', 'latest', short(busybox.configDigest), '3.23MB', busybox.manifest.digest, '3 hours ago'],
    ],
  );
  assert.match(rows[1]!.CreatedAt!, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+0000 UTC$/);

  const bad = await kiln(root, 'images', '--format', 'yaml');
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^error: --format must be 'table' or 'json'/);
});

test('an empty or fresh store lists only the header', async (t) => {
  const root = await mkdtemp(path.join(tmpdir(), 'kiln-cli-empty-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const r = await kiln(path.join(root, 'not-yet'), 'images');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'REPOSITORY   TAG       IMAGE ID   CREATED   SIZE\n');
});

test('tag adds a name for the same image; an unknown source is a one-line error naming it', async (t) => {
  const { root, store, busybox } = await seededStore(t);
  const r = await kiln(root, 'tag', 'busybox', 'example.com/team/box:v1');
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual((await store.images.get('example.com/team/box:v1'))?.target, busybox.manifest);
  const byId = await kiln(root, 'tag', short(busybox.configDigest), 'box2');
  assert.equal(byId.code, 0, byId.stderr);
  assert.deepEqual((await store.images.get('docker.io/library/box2:latest'))?.target, busybox.manifest);

  const missing = await kiln(root, 'tag', 'nope:1', 'other');
  assert.equal(missing.code, 1);
  assert.equal(missing.stderr.trim().split('\n').length, 1);
  assert.match(missing.stderr, /^error: image "nope:1" not found in the store at /);

  const withDigest = await kiln(root, 'tag', 'busybox', `x@${busybox.manifest.digest}`);
  assert.equal(withDigest.code, 1);
  assert.match(withDigest.stderr, /a tag cannot include a digest/);
});

test('rmi untags by name; by ID it refuses several names without -f; blobs wait for prune', async (t) => {
  const { root, store, busybox } = await seededStore(t);
  await kiln(root, 'tag', 'busybox', 'mybox:v1');

  const byName = await kiln(root, 'rmi', 'mybox:v1', 'ghost');
  assert.equal(byName.code, 1, 'one bad name fails the command');
  assert.equal(byName.stdout, 'Untagged: mybox:v1\n', 'the good name is still removed');
  assert.match(byName.stderr, /^error: image "ghost" not found/);
  assert.equal(await store.images.get('docker.io/library/mybox:v1'), undefined);

  await kiln(root, 'tag', 'busybox', 'mybox:v2');
  const conflict = await kiln(root, 'rmi', short(busybox.configDigest));
  assert.equal(conflict.code, 1);
  assert.match(conflict.stderr, /it is tagged as busybox:latest, mybox:v2; .*-f/);
  const forced = await kiln(root, 'rmi', '-f', short(busybox.configDigest));
  assert.equal(forced.code, 0, forced.stderr);
  assert.equal(forced.stdout, 'Untagged: busybox:latest\nUntagged: mybox:v2\n');
  for (const d of busybox.blobs) assert.equal(await store.content.has(d), true, 'rmi leaves blobs to prune');

  const pruned = await kiln(root, 'prune');
  assert.equal(pruned.code, 0, pruned.stderr);
  assert.equal(pruned.stdout, 'Deleted 4 blobs, 0 snapshots, 0 build cache records; freed 3.2 MB\n');
  for (const d of busybox.blobs) assert.equal(await store.content.has(d), false);
  assert.equal((await kiln(root, 'images', '-q')).stdout.trim().split('\n').length, 1, 'the other image is untouched');
});

test('prune removes a dead writer’s temp file and keeps every blob of a recorded image', async (t) => {
  const { root, store, amd, arm, indexDigest } = await seededStore(t);
  await writeFile(path.join(root, 'ingest', '1.1-0123abcd'), randomBytes(2_500_000));
  const r = await kiln(root, 'prune');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'Deleted 0 blobs, 0 snapshots, 0 build cache records; freed 2.5 MB\n');
  assert.deepEqual(await readdir(path.join(root, 'ingest')), []);
  for (const d of [indexDigest, ...amd.blobs, ...arm.blobs]) assert.equal(await store.content.has(d), true);
});

test('history shows the config history newest first, docker’s truncation, --no-trunc', async (t) => {
  const { root, busybox } = await seededStore(t);
  const r = await kiln(root, 'history', 'busybox');
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n').filter(Boolean);
  assert.match(lines[0]!, /^IMAGE\s+CREATED\s+CREATED BY\s+SIZE\s+COMMENT$/);
  const rows = lines.slice(1).map((l) => l.split(/ {3,}/));
  assert.deepEqual(rows, [
    [short(busybox.configDigest), '3 hours ago', 'RUN /bin/sh -c echo hi > /hi # buildkit', '2MB', 'buildkit.dockerfile.v0'],
    ['<missing>', '5 days ago', '/bin/sh -c #(nop)  CMD ["sh"]', '0B', ''],
    ['<missing>', '5 days ago', addCmd.slice(0, 44) + '…', '1.23MB', ''],
  ]);

  const full = await kiln(root, 'history', '--no-trunc', 'busybox');
  assert.ok(full.stdout.includes(addCmd), 'the whole command');
  assert.ok(full.stdout.includes(busybox.configDigest), 'the whole ID');

  const missing = await kiln(root, 'history', 'docker.io/library/nope');
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^error: image "docker.io\/library\/nope" not found/);
});

test('inspect prints Name, Digest, Manifest and Config, picking the host platform from an index', async (t) => {
  const { root, store, busybox, amd } = await seededStore(t);
  const r = await kiln(root, 'inspect', 'busybox:latest');
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { Name: string; Digest: string; Manifest: Manifest; Config: ImageConfig };
  assert.equal(out.Name, 'docker.io/library/busybox:latest');
  assert.equal(out.Digest, busybox.manifest.digest);
  assert.deepEqual(out.Manifest, await store.content.readJSON(busybox.manifest.digest));
  assert.deepEqual(out.Config, await store.content.readJSON(busybox.configDigest));

  // Host platform (the test machine's) chosen from a two-platform index.
  const hostArch = process.arch === 'x64' ? 'amd64' : process.arch;
  if (hostArch === 'amd64') {
    const app = JSON.parse((await kiln(root, 'inspect', 'localhost:5000/app:1')).stdout) as { Digest: string; Config: ImageConfig };
    assert.equal(app.Digest, amd.manifest.digest);
    assert.equal(app.Config.architecture, 'amd64');
  }
  const byDigest = JSON.parse((await kiln(root, 'inspect', busybox.manifest.digest)).stdout) as { Name: string };
  assert.equal(byDigest.Name, 'docker.io/library/busybox:latest');

  const missing = await kiln(root, 'inspect', 'ghost');
  assert.equal(missing.code, 1);
  assert.equal(missing.stderr.split('\n').filter(Boolean).length, 1);
  assert.match(missing.stderr, /"ghost" not found/);
});

test('the store is --root, else $KILN_ROOT', async (t) => {
  const { root } = await seededStore(t);
  const empty = await mkdtemp(path.join(tmpdir(), 'kiln-cli-other-'));
  t.after(() => rm(empty, { recursive: true, force: true }));
  const fromEnv = await run(['images', '-q'], { KILN_ROOT: root });
  assert.equal(fromEnv.stdout.trim().split('\n').length, 2, fromEnv.stderr);
  const flagWins = await run(['images', '-q', '--root', empty], { KILN_ROOT: root });
  assert.equal(flagWins.code, 0, flagWins.stderr);
  assert.equal(flagWins.stdout, '');
});

test('a short image ID that several images start with is refused as ambiguous', async (t) => {
  const { root, store, busybox } = await seededStore(t);
  // Add images until two image IDs share a first hex digit.
  const ids = [busybox.configDigest];
  let clash: string | undefined;
  for (let i = 0; clash === undefined; i++) {
    const img = await seedImage(store, { layers: [10], created: ago(0) });
    await store.images.put({ name: `example.com/x:${i}`, target: img.manifest, created: ago(0) });
    clash = ids.find((id) => id[7] === img.configDigest[7]);
    ids.push(img.configDigest);
  }
  const r = await kiln(root, 'inspect', clash[7]!);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`^error: image ID "${clash[7]}" is ambiguous`));
});
