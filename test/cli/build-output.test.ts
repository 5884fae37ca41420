// `kiln build --output`, --metadata-file, --pull and --llb end to end through the real binary, on
// a busybox image imported into a temp store, with skopeo, umoci and tar as outside readers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstat, mkdir, mkdtemp, readFile, readlink, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { repoRoot, runKiln, type CliResult } from '../helpers/kiln-cli.js';
import { hostPlatform } from '../../oci/platform.js';
import { Store } from '../../snapshotter/store.js';
import type { ImageConfig, Index, Manifest } from '../../oci/image-spec.js';

const run = promisify(execFile);
const env = { ...process.env, SOURCE_DATE_EPOCH: '1700000000' };
let dir: string;
let root: string;
let ctx: string;

const dockerfile = `FROM kiln.local/busybox
RUN mkdir -p /out && echo built by RUN > /out/built.txt && ln -s built.txt /out/link
CMD ["cat", "/out/built.txt"]
`;

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'kiln-bout-'));
  root = path.join(dir, 'root');
  const rootfs = path.join(dir, 'rootfs.tar');
  await run('bash', [path.join(repoRoot, 'examples/make-busybox-rootfs.sh'), rootfs]);
  const imp = await runKiln(['import', '--root', root, rootfs, 'kiln.local/busybox'], { env });
  assert.equal(imp.code, 0, imp.stderr);
  ctx = path.join(dir, 'ctx');
  await mkdir(ctx);
  await writeFile(path.join(ctx, 'Dockerfile'), dockerfile);
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function build(args: string[], opts: { input?: Buffer } = {}): Promise<CliResult> {
  return runKiln(['build', '--root', root, '--progress', 'plain', ...args], { env, cwd: dir, ...opts });
}

async function built(args: string[]): Promise<string> {
  const r = await build(args);
  assert.equal(r.code, 0, r.stderr);
  const out = r.stdout.toString();
  assert.match(out, /^sha256:[a-f0-9]{64}\n$/);
  return out.trim();
}

const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function recordNames(): Promise<string[]> {
  const store = await Store.open(root);
  return (await store.images.list()).map((r) => r.name).sort();
}

async function diffIds(ref: string): Promise<string[]> {
  const r = await runKiln(['inspect', '--root', root, ref], { env });
  assert.equal(r.code, 0, r.stderr);
  const store = await Store.open(root);
  const digest = (JSON.parse(r.stdout.toString()) as { Digest: string }).Digest;
  const manifest = await store.content.readJSON<Manifest>(digest);
  return (await store.content.readJSON<ImageConfig>(manifest.config.digest)).rootfs.diff_ids;
}

test('type=oci writes an OCI layout tar that skopeo and umoci read, named by -t, recording nothing in the store', async () => {
  const before = await recordNames();
  const oci = path.join(dir, 'hello-oci.tar');
  const digest = await built(['-t', 'hello:oci', '--output', `type=oci,dest=${oci}`, path.join(repoRoot, 'examples/hello')]);
  assert.deepEqual(await recordNames(), before, 'an output other than image leaves the image store alone');

  const { stdout: inspected } = await run('skopeo', ['inspect', `oci-archive:${oci}`]);
  assert.equal(JSON.parse(inspected).Digest, digest);
  const { stdout: raw } = await run('skopeo', ['inspect', '--raw', `oci-archive:${oci}`], { encoding: 'buffer' });
  assert.equal(sha256(raw), digest, 'the archive holds our manifest byte for byte');

  const layout = path.join(dir, 'hello-layout');
  await mkdir(layout);
  await run('tar', ['-xf', oci, '-C', layout]);
  const index = JSON.parse(await readFile(path.join(layout, 'index.json'), 'utf8')) as Index;
  assert.equal(index.manifests[0]!.annotations?.['io.containerd.image.name'], 'docker.io/library/hello:oci');
  assert.equal(index.manifests[0]!.annotations?.['org.opencontainers.image.ref.name'], 'oci');
  await run('umoci', ['unpack', '--image', `${layout}:oci`, path.join(dir, 'hello-bundle')]);
  const greet = path.join(dir, 'hello-bundle/rootfs/usr/local/bin/greet');
  assert.match(await readFile(greet, 'utf8'), /kiln/);
  assert.ok(((await stat(greet)).mode & 0o111) !== 0, 'greet stays executable');
});

test('type=docker writes a docker-archive that skopeo reads and kiln load brings back to the same digest', async () => {
  const tarPath = path.join(dir, 'docker.tar');
  const digest = await built(['-t', 'dock:1', '-o', `type=docker,dest=${tarPath}`, ctx]);
  const { stdout } = await run('skopeo', ['inspect', `docker-archive:${tarPath}`]);
  const seen = JSON.parse(stdout) as { Layers: string[] };
  assert.equal(seen.Layers.length, 2);

  const other = path.join(dir, 'root-load');
  const load = await runKiln(['load', '--root', other, '-i', tarPath], { env });
  assert.equal(load.code, 0, load.stderr);
  assert.match(load.stdout.toString(), /Loaded image: dock:1/);
  const images = await runKiln(['images', '--root', other, '--digests'], { env });
  assert.equal(images.code, 0, images.stderr);
  assert.match(images.stdout.toString(), new RegExp(`dock\\s+1\\s+${digest}`));
});

test('type=local (and -o DIR) writes the root filesystem: the RUN output, links and the busybox binary', async () => {
  const out = path.join(dir, 'rootfs-dir');
  const before = await recordNames();
  await built(['-o', out, ctx]);
  assert.deepEqual(await recordNames(), before);
  assert.equal(await readFile(path.join(out, 'out/built.txt'), 'utf8'), 'built by RUN\n');
  assert.ok((await lstat(path.join(out, 'out/link'))).isSymbolicLink());
  assert.equal(await readlink(path.join(out, 'out/link')), 'built.txt');
  const busybox = await stat(path.join(out, 'bin/busybox'));
  assert.ok(busybox.isFile() && (busybox.mode & 0o777) === 0o755);
  assert.equal(await readlink(path.join(out, 'bin/sh')), 'busybox');
  assert.equal((await stat(path.join(out, 'tmp'))).mode & 0o7777, 0o1777, 'modes survive');
});

test('type=tar writes the root filesystem as one tar; -o - streams the same bytes to stdout, without the digest line', async () => {
  const file = path.join(dir, 'rootfs.out.tar');
  await built(['-o', `type=tar,dest=${file}`, ctx]);
  const { stdout: listing } = await run('tar', ['-tvf', file], { maxBuffer: 1 << 24 });
  assert.match(listing, /^-rw-r--r-- 0\/0 +13 2023-11-14 \d\d:\d\d out\/built\.txt$/m);
  assert.match(listing, /^lrwxrwxrwx 0\/0 .* out\/link -> built\.txt$/m);
  assert.match(listing, /^-rwxr-xr-x 0\/0 .* bin\/busybox$/m);

  const streamed = await build(['-o', '-', ctx]);
  assert.equal(streamed.code, 0, streamed.stderr);
  assert.deepEqual(streamed.stdout, await readFile(file), 'same build, same SOURCE_DATE_EPOCH: the same tar, and nothing else on stdout');
});

test('several outputs in one build, and --metadata-file agrees with kiln images --digests and inspect', async () => {
  const meta = path.join(dir, 'meta.json');
  const oci = path.join(dir, 'multi.tar');
  const local = path.join(dir, 'multi-dir');
  const digest = await built(['-t', 'meta:1', '-o', 'type=image', '-o', `type=oci,dest=${oci}`, '-o', local, '--metadata-file', meta, ctx]);
  const m = JSON.parse(await readFile(meta, 'utf8')) as Record<string, unknown>;
  assert.equal(m['containerimage.digest'], digest);
  assert.equal(m['image.name'], 'docker.io/library/meta:1');

  const inspect = JSON.parse((await runKiln(['inspect', '--root', root, 'meta:1'], { env })).stdout.toString()) as { Digest: string; Id: string };
  assert.equal(inspect.Digest, digest);
  const images = await runKiln(['images', '--root', root, '--digests'], { env });
  assert.match(images.stdout.toString(), new RegExp(`meta\\s+1\\s+${digest}`));
  const store = await Store.open(root);
  const manifestBytes = await readFile(store.content.blobPath(digest));
  const manifest = JSON.parse(manifestBytes.toString()) as Manifest;
  assert.equal(m['containerimage.config.digest'], manifest.config.digest);
  // The keys and shapes BuildKit writes (v0.34.2 here): the creation time in seconds, the platform.
  assert.deepEqual(m['containerimage.descriptor'], {
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    digest,
    size: manifestBytes.length,
    annotations: { 'org.opencontainers.image.created': '2023-11-14T22:13:20Z' },
    platform: { architecture: hostPlatform().architecture, os: 'linux' },
  });

  const { stdout } = await run('skopeo', ['inspect', `oci-archive:${oci}`]);
  assert.equal(JSON.parse(stdout).Digest, digest);
  assert.equal(await readFile(path.join(local, 'out/built.txt'), 'utf8'), 'built by RUN\n');
});

test('type=cacheonly builds and caches but exports nothing', async () => {
  const before = await recordNames();
  const r = await build(['-t', 'cache-only', '-o', 'type=cacheonly', ctx]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.toString(), '');
  assert.doesNotMatch(r.stderr, /exporting layers/);
  assert.deepEqual(await recordNames(), before);
});

test('--pull resolves tags at their registries even when the store has them: an unreachable one fails the build, naming it', async () => {
  const pullCtx = path.join(dir, 'pull-ctx');
  await mkdir(pullCtx);
  await writeFile(path.join(pullCtx, 'Dockerfile'), 'FROM kiln.local/busybox\nRUN true\n');
  const r = await build(['--pull', '-t', 'pulled', pullCtx]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^error: --pull: base image "kiln\.local\/busybox:latest" could not be resolved at its registry \(cannot reach registry kiln\.local: ENOTFOUND.*\); drop --pull to build from the store's copy\n$/);
  assert.ok(!(await recordNames()).includes('docker.io/library/pulled:latest'));
});

test('--llb: the pb from kiln debug llb builds the same layers as the Dockerfile, from a file or stdin', async () => {
  const fromDockerfile = await built(['-t', 'from-df', ctx]);
  const pb = path.join(dir, 'def.pb');
  const llb = await runKiln(['debug', 'llb', '--format', 'pb', ctx], { env });
  assert.equal(llb.code, 0, llb.stderr);
  await writeFile(pb, llb.stdout);
  const json = await runKiln(['debug', 'llb', ctx], { env });
  await writeFile(path.join(dir, 'def.json'), json.stdout);

  const fromFile = await built(['--llb', pb, '--llb-config', path.join(dir, 'def.json'), '-t', 'from-llb', ctx]);
  // debug llb compiles without the store, so the base image's own config (history) is not in
  // its config: the layers are what must match.
  assert.notEqual(fromFile, fromDockerfile);
  const expected = await diffIds('from-df');
  assert.equal(expected.length, 2);
  assert.deepEqual(await diffIds('from-llb'), expected);
  const store = await Store.open(root);
  const manifest = await store.content.readJSON<Manifest>(fromFile);
  const config = await store.content.readJSON<ImageConfig>(manifest.config.digest);
  assert.deepEqual(config.config.Cmd, ['cat', '/out/built.txt'], '--llb-config supplied the config');

  const stdin = await build(['--llb', '-', '-t', 'from-stdin'], { input: llb.stdout });
  assert.equal(stdin.code, 0, stdin.stderr);
  assert.deepEqual(await diffIds('from-stdin'), expected);
  const bare = await store.content.readJSON<ImageConfig>((await store.content.readJSON<Manifest>(stdin.stdout.toString().trim())).config.digest);
  assert.deepEqual(bare.config, {}, 'without --llb-config the config holds only platform and rootfs');
  assert.equal(bare.os, 'linux');
});

test('-q prints the digest and nothing else; -q with another --progress is refused', async () => {
  const loud = await built(['-t', 'quiet-test', ctx]);
  const quiet = await runKiln(['build', '--root', root, '-q', '-t', 'quiet-test', ctx], { env, cwd: dir });
  assert.equal(quiet.code, 0, quiet.stderr);
  assert.equal(quiet.stderr, '');
  assert.equal(quiet.stdout.toString(), `${loud}\n`);
  const both = await build(['-q', ctx]);
  assert.equal(both.code, 1);
  assert.match(both.stderr, /^error: --quiet and --progress=plain disagree; give one of them/);
});

test('user errors are one line naming the flag', async () => {
  const cases: [string[], RegExp][] = [
    [['-o', 'type=foo', ctx], /^error: --output type=foo: unknown type 'foo'/],
    [['-o', 'type=oci', ctx], /^error: --output type=oci: type=oci needs dest=FILE\.tar/],
    [['-o', '-', '-o', 'type=oci,dest=-', ctx], /^error: --output type=oci,dest=-: stdout is also the destination of --output -/],
    [['--llb', path.join(dir, 'no-such.pb')], /^error: --llb .*no-such\.pb: cannot read it \(ENOENT\)/],
    [['--llb', path.join(ctx, 'Dockerfile')], /^error: --llb .*Dockerfile: not a pb\.Definition/],
    [['--llb', 'x.pb', '-f', 'Dockerfile'], /^error: --llb replaces the Dockerfile: drop --file/],
    [['--llb-config', 'c.json', ctx], /^error: --llb-config goes with --llb FILE\.pb/],
    [['--llb', '-', '--llb-config', '-'], /^error: --llb and --llb-config cannot both read stdin/],
  ];
  for (const [args, message] of cases) {
    const r = await build(args);
    assert.equal(r.code, 1, args.join(' '));
    assert.match(r.stderr, message);
    assert.ok(!r.stderr.includes('internal error'), r.stderr);
  }
  assert.deepEqual((await readdir(dir)).filter((n) => n.startsWith('.')), [], 'no half-written archives left behind');
});
