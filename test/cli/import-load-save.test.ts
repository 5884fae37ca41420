// `kiln import`, `save`, `load` and `diff` end to end through the real binary, on a busybox rootfs
// made by examples/make-busybox-rootfs.sh, checked with skopeo where an outside view helps.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { repoRoot, runKiln } from '../helpers/kiln-cli.js';
import { Store } from '../../snapshotter/store.js';
import type { ImageConfig, Manifest } from '../../oci/image-spec.js';
import { readTar, sha256 } from '../exporter/image-fixture.js';
import tar from 'tar-stream';

const run = promisify(execFile);
let dir: string;
let rootfs: string;
let root: string;
const env = { ...process.env, SOURCE_DATE_EPOCH: '1700000000' };

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'kiln-ils-'));
  rootfs = path.join(dir, 'rootfs.tar');
  await run('bash', [path.join(repoRoot, 'examples/make-busybox-rootfs.sh'), rootfs]);
  root = path.join(dir, 'root');
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const digestLine = /^sha256:[a-f0-9]{64}\n$/;

test('import makes a one-layer image with the changes applied, reproducibly, from a file or gzip on stdin', async () => {
  const changes = ['-c', 'ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin', '--change', 'CMD ["/bin/sh"]', '-c', 'WORKDIR /srv', '-c', 'LABEL org.example.from=busybox'];
  const a = await runKiln(['import', rootfs, 'kiln.local/busybox', ...changes, '-m', 'busybox rootfs', '--root', root], { env });
  assert.equal(a.code, 0, a.stderr);
  assert.match(a.stdout.toString(), digestLine);
  const imageId = a.stdout.toString().trim();

  const b = await runKiln(['import', '-', 'kiln.local/busybox:again', ...changes, '-m', 'busybox rootfs', '--root', root], { env, input: gzipSync(await readFile(rootfs)) });
  assert.equal(b.code, 0, b.stderr);
  assert.equal(b.stdout.toString().trim(), imageId, 'same tar, changes and SOURCE_DATE_EPOCH give the same image');

  const store = await Store.open(root);
  const digest = (await store.images.get('kiln.local/busybox:latest'))!.target.digest;
  assert.equal((await store.images.get('kiln.local/busybox:again'))?.target.digest, digest);
  const manifest = await store.content.readJSON<Manifest>(digest);
  assert.equal(manifest.config.digest, imageId, 'import prints the image ID (the config digest), as docker import does');
  const images = await runKiln(['images', '--root', root], { env });
  assert.match(images.stdout.toString(), new RegExp(`kiln\\.local/busybox\\s+latest\\s+${imageId.slice(7, 19)}`), 'the ID kiln images shows');
  assert.equal(manifest.mediaType, 'application/vnd.oci.image.manifest.v1+json');
  assert.equal(manifest.layers.length, 1);
  assert.equal(manifest.layers[0]!.mediaType, 'application/vnd.oci.image.layer.v1.tar+gzip');
  const config = await store.content.readJSON<ImageConfig>(manifest.config.digest);
  assert.deepEqual(config.rootfs.diff_ids, [sha256(await readFile(rootfs))]);
  assert.equal(config.created, '2023-11-14T22:13:20Z');
  assert.equal(config.os, 'linux');
  assert.deepEqual(config.config, {
    Env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin'],
    Cmd: ['/bin/sh'],
    WorkingDir: '/srv',
    Labels: { 'org.example.from': 'busybox' },
  });
  assert.deepEqual(config.history, [{ created: '2023-11-14T22:13:20Z', comment: 'busybox rootfs' }]);

  const arm = await runKiln(['import', rootfs, 'kiln.local/busybox:arm64', '--platform', 'linux/arm64', '--root', root], { env });
  assert.equal(arm.code, 0, arm.stderr);
  const armConfig = await store.content.readJSON<ImageConfig>(arm.stdout.toString().trim());
  assert.equal(armConfig.architecture, 'arm64');
  assert.deepEqual(armConfig.history, [{ created: '2023-11-14T22:13:20Z', comment: `Imported from ${rootfs}` }]);
});

test('save (OCI, default) is read by skopeo; load puts it in another store under the same digest', async () => {
  const out = path.join(dir, 'bb.tar');
  const save = await runKiln(['save', 'kiln.local/busybox', '-o', out, '--root', root]);
  assert.equal(save.code, 0, save.stderr);
  const { stdout } = await run('skopeo', ['inspect', `oci-archive:${out}`]);
  const store = await Store.open(root);
  const digest = (await store.images.get('kiln.local/busybox:latest'))!.target.digest;
  assert.equal(JSON.parse(stdout).Digest, digest);

  const root2 = path.join(dir, 'root2');
  const load = await runKiln(['load', '-i', out, '--root', root2]);
  assert.equal(load.code, 0, load.stderr);
  assert.equal(load.stdout.toString(), 'Loaded image: kiln.local/busybox:latest\n');
  assert.match(load.stderr, /Loaded blob sha256:[a-f0-9]{64} \(\d+ bytes\)/);
  const store2 = await Store.open(root2);
  assert.equal((await store2.images.get('kiln.local/busybox:latest'))?.target.digest, digest);

  // Loading again stores nothing new; -q prints only the names.
  const again = await runKiln(['load', '-q', '--root', root2], { input: await readFile(out) });
  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.stdout.toString(), 'Loaded image: kiln.local/busybox:latest\n');
  assert.equal(again.stderr, '');
});

test('save --format docker, to stdout, loads back with the same digest and a docker.io short name', async () => {
  const tag = await runKiln(['import', rootfs, 'busybox:1.35', '--root', root], { env });
  assert.equal(tag.code, 0, tag.stderr);
  const save = await runKiln(['save', '--format', 'docker', 'busybox:1.35', 'kiln.local/busybox', '--root', root]);
  assert.equal(save.code, 0, save.stderr);
  const files = await readTar(save.stdout);
  assert.ok(files.has('manifest.json') && files.has('repositories') && !files.has('index.json'));
  const root3 = path.join(dir, 'root3');
  const load = await runKiln(['load', '--root', root3], { input: save.stdout });
  assert.equal(load.code, 0, load.stderr);
  assert.equal(load.stdout.toString(), 'Loaded image: busybox:1.35\nLoaded image: kiln.local/busybox:latest\n');
  const [s1, s3] = [await Store.open(root), await Store.open(root3)];
  for (const name of ['docker.io/library/busybox:1.35', 'kiln.local/busybox:latest']) {
    assert.equal((await s3.images.get(name))?.target.digest, (await s1.images.get(name))?.target.digest, name);
  }
});

test('a corrupted archive is refused with one line naming the digest; nothing is recorded', async () => {
  const out = path.join(dir, 'good.tar');
  assert.equal((await runKiln(['save', 'kiln.local/busybox', '-o', out, '--root', root])).code, 0);
  const files = await readTar(await readFile(out));
  const store = await Store.open(root);
  const manifest = await store.content.readJSON<Manifest>((await store.images.get('kiln.local/busybox:latest'))!.target.digest);
  const layer = manifest.layers[0]!.digest;
  const name = `blobs/sha256/${layer.slice(7)}`;
  const bad = Buffer.from(files.get(name)!);
  bad[Math.floor(bad.length / 2)] ^= 0x55;
  files.set(name, bad);
  const pack = tar.pack();
  for (const [n, body] of files) pack.entry({ name: n }, body);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  const corrupt = path.join(dir, 'corrupt.tar');
  await writeFile(corrupt, Buffer.concat(chunks));

  const root4 = path.join(dir, 'root4');
  const load = await runKiln(['load', '-i', corrupt, '--root', root4]);
  assert.equal(load.code, 1);
  assert.equal(load.stderr.split('\n').filter(Boolean).length, 1, load.stderr);
  assert.match(load.stderr, new RegExp(`^error: ${corrupt}: blob ${layer} is corrupt`));
  const store4 = await Store.open(root4);
  assert.deepEqual(await store4.images.list(), []);
  assert.deepEqual(await store4.content.list(), []);
  assert.deepEqual(await readdir(path.join(root4, 'ingest')), []);
});

test('diff lists what a second image adds, changes and deletes', async () => {
  const tree = path.join(dir, 'tree');
  await mkdir(tree);
  await run('tar', ['-xf', rootfs, '-C', tree]);
  await writeFile(path.join(tree, 'etc', 'motd'), 'hello\n');
  await writeFile(path.join(tree, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  await rm(path.join(tree, 'bin', 'vi'));
  const changed = path.join(dir, 'changed.tar');
  await run('tar', ['-cf', changed, '--sort=name', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner', '-C', tree, '.']);
  assert.equal((await runKiln(['import', changed, 'kiln.local/changed', '--root', root], { env })).code, 0);
  const diff = await runKiln(['diff', 'kiln.local/busybox', 'kiln.local/changed', '--root', root]);
  assert.equal(diff.code, 0, diff.stderr);
  assert.equal(diff.stdout.toString(), 'C /bin\nD /bin/vi\nC /etc\nA /etc/motd\nC /etc/passwd\n');
  const same = await runKiln(['diff', 'kiln.local/busybox', 'kiln.local/busybox:again', '--root', root]);
  assert.equal(same.code, 0, same.stderr);
  assert.equal(same.stdout.toString(), '');
});

test('user mistakes get one clear line and a non-zero exit', async () => {
  const cases: [string[], RegExp][] = [
    [['import', rootfs, '--root', root], /^error: import takes a tarball \(or -\) and an image name/],
    [['import', rootfs, 'x', '-c', 'RUN true', '--root', root], /^error: --change 'RUN true': RUN is not supported by import/],
    [['import', path.join(dir, 'nope.tar'), 'x', '--root', root], /^error: .*nope\.tar: cannot read it \(ENOENT\)/],
    [['import', path.join(repoRoot, 'package.json'), 'x', '--root', root], /^error: .*package\.json: not a tar archive/],
    [['import', rootfs, 'Bad:Name', '--root', root], /^error: .*must be lowercase/],
    [['save', 'kiln.local/missing', '-o', path.join(dir, 'm.tar'), '--root', root], /^error: image "kiln.local\/missing" not found/],
    [['save', 'kiln.local/busybox', '--format', 'tgz', '-o', path.join(dir, 'm.tar'), '--root', root], /^error: --format tgz: use oci or docker/],
    [['load', '-i', path.join(dir, 'nope.tar'), '--root', root], /^error: --input .*nope\.tar: cannot read it \(ENOENT\)/],
    [['diff', 'kiln.local/busybox', '--root', root], /^error: diff compares two images, got 1/],
  ];
  for (const [args, message] of cases) {
    const r = await runKiln(args, { env });
    assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message, args.join(' '));
    assert.doesNotMatch(r.stderr, /internal error|    at /, args.join(' '));
  }
  assert.deepEqual(await readdir(path.join(dir)).then((n) => n.includes('m.tar')), false, 'a failed save leaves no file');
});

test('import refuses archives kiln could not unpack, naming the entry, and keeps nothing of them', async () => {
  const hostile: [string, Partial<tar.Header>[], RegExp][] = [
    ['dotdot', [{ name: 'bin', type: 'directory' }, { name: '../evil', size: 1 }], /entry "\.\.\/evil": path climbs out of the target/],
    ['through-symlink', [{ name: 'etc', type: 'symlink', linkname: '/tmp' }, { name: 'etc/evil', size: 1 }], /entry "etc\/evil": parent "etc" is a symlink/],
    ['hardlink-out', [{ name: 'a', type: 'link', linkname: '../../etc/passwd' }], /entry "a": hard link target "\.\.\/\.\.\/etc\/passwd": path climbs out/],
  ];
  const root5 = path.join(dir, 'root5');
  for (const [name, entries, why] of hostile) {
    const pack = tar.pack();
    for (const h of entries) pack.entry({ name: '', ...h }, h.size ? 'x' : '');
    pack.finalize();
    const chunks: Buffer[] = [];
    for await (const c of pack) chunks.push(c as Buffer);
    const file = path.join(dir, `${name}.tar`);
    await writeFile(file, Buffer.concat(chunks));
    const r = await runKiln(['import', file, `kiln.local/${name}`, '--root', root5]);
    assert.equal(r.code, 1, name);
    assert.match(r.stderr, new RegExp(`^error: ${file}: ${why.source}.*; kiln refuses this archive`), name);
    assert.doesNotMatch(r.stderr, /internal error/);
  }
  const store5 = await Store.open(root5);
  assert.deepEqual(await store5.images.list(), [], 'no image is recorded');
  const layers = [];
  for (const b of await store5.content.list()) if (b.size > 1024) layers.push(b.digest);
  assert.deepEqual(layers, [], 'no refused layer blob stays behind');
});
