// Outputs with buildx's layer keys (compression=, compression-level=, force-compression=,
// oci-mediatypes=) through the real `kiln` binary and a real registry: the layers the build made
// are pushed zstd, the base's only with force-compression, skopeo/umoci and kiln read them back,
// a second push converts and uploads nothing, and a bad value is one line naming the key. The
// media types follow what BuildKit v0.34 writes for the same keys.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { importBusybox, runKiln } from '../helpers/kiln-cli.js';
import { startRegistry, type RegistryServer } from '../helpers/registry.js';

const run = promisify(execFile);

interface RawManifest {
  mediaType: string;
  config: { mediaType: string; digest: string };
  layers: { mediaType: string; digest: string }[];
}

const OCI_GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip';
const OCI_ZSTD = 'application/vnd.oci.image.layer.v1.tar+zstd';

describe('layer compression of pushed and exported images', () => {
  let reg: RegistryServer;
  let dir: string;
  let ctx: string;
  let env: NodeJS.ProcessEnv;
  const root = (name: string): string => path.join(dir, name);
  const kiln = async (args: string[], rootName = 'a') => {
    const r = await runKiln([args[0]!, '--root', root(rootName), ...args.slice(1)], { env });
    return { ...r, out: r.stdout.toString('utf8'), err: r.stderr };
  };
  const build = (output: string) => kiln(['build', '--progress', 'plain', '--output', output, ctx]);
  const inspect = async (ref: string): Promise<RawManifest> => JSON.parse((await run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${ref}`])).stdout) as RawManifest;

  before(async () => {
    reg = await startRegistry();
    dir = await mkdtemp(path.join(tmpdir(), 'kiln-compress-'));
    env = { ...process.env, HOME: dir, DOCKER_CONFIG: path.join(dir, 'docker'), SOURCE_DATE_EPOCH: '1700000000' };
    await importBusybox(dir, root('a'), env);
    ctx = path.join(dir, 'ctx');
    await mkdir(ctx);
    await writeFile(path.join(ctx, 'Dockerfile'), 'FROM kiln.local/busybox\nRUN echo hello-zstd > /hi\n');
  });
  after(async () => {
    await reg.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('compression=zstd pushes the built layer as zstd, keeps the base gzip, and the config as it is', async () => {
    const plain = await build(`type=registry,name=${reg.host}/app:gzip`);
    assert.equal(plain.code, 0, plain.err);
    const zstd = await build(`type=registry,name=${reg.host}/app:zstd,compression=zstd`);
    assert.equal(zstd.code, 0, zstd.err);
    assert.match(zstd.err, /compressing layer sha256:[a-f0-9]{64} to zstd/);
    const [g, z] = [await inspect(`${reg.host}/app:gzip`), await inspect(`${reg.host}/app:zstd`)];
    assert.equal(z.mediaType, 'application/vnd.oci.image.manifest.v1+json');
    assert.deepEqual(z.layers.map((l) => l.mediaType), [OCI_GZIP, OCI_ZSTD]);
    assert.equal(z.layers[0]!.digest, g.layers[0]!.digest, 'the base layer is not converted without force-compression');
    assert.notEqual(z.layers[1]!.digest, g.layers[1]!.digest);
    // The diff_ids do not depend on the compression: the same config blob.
    assert.equal(z.config.digest, g.config.digest);
    const blob = await fetch(`http://${reg.host}/v2/app/blobs/${z.layers[1]!.digest}`);
    assert.deepEqual([...Buffer.from(await blob.arrayBuffer()).subarray(0, 4)], [0x28, 0xb5, 0x2f, 0xfd], 'zstd magic');
  });

  // Debian's umoci (0.4.7) predates zstd layers, so zstd(1) and tar read the copied layer instead.
  it('skopeo copy and zstd/tar read the zstd image; kiln pulls and runs it', async () => {
    const layout = path.join(dir, 'layout');
    await run('skopeo', ['copy', '--src-tls-verify=false', `docker://${reg.host}/app:zstd`, `oci:${layout}:z`]);
    const index = JSON.parse(await readFile(path.join(layout, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
    const blobs = path.join(layout, 'blobs', 'sha256');
    const m = JSON.parse(await readFile(path.join(blobs, index.manifests[0]!.digest.slice(7)), 'utf8')) as RawManifest;
    assert.equal(m.layers[1]!.mediaType, OCI_ZSTD);
    const plain = path.join(dir, 'layer.tar');
    await run('zstd', ['-q', '-d', path.join(blobs, m.layers[1]!.digest.slice(7)), '-o', plain]);
    assert.equal((await run('tar', ['-xOf', plain, 'hi'])).stdout, 'hello-zstd\n');
    const pulled = await kiln(['pull', `${reg.host}/app:zstd`], 'b');
    assert.equal(pulled.code, 0, pulled.err);
    const ran = await kiln(['run', '--rm', `${reg.host}/app:zstd`, 'cat', '/hi'], 'b');
    assert.equal(ran.code, 0, ran.err);
    assert.equal(ran.out, 'hello-zstd\n');
  });

  it('a second push of the same output converts nothing and uploads no blob', async () => {
    const records = JSON.parse(await readFile(path.join(root('a'), 'cache', 'compressed.json'), 'utf8')) as { layers: Record<string, { digest: string }> };
    const z = await inspect(`${reg.host}/app:zstd`);
    assert.deepEqual(Object.values(records.layers).map((l) => l.digest), [z.layers[1]!.digest], 'the converted blob is recorded');
    const before = (await reg.requests()).length;
    const again = await build(`type=registry,name=${reg.host}/app:zstd,compression=zstd`);
    assert.equal(again.code, 0, again.err);
    assert.doesNotMatch(again.err, /compressing layer/);
    assert.match(again.err, / exists \d+ bytes/);
    const since = (await reg.requests()).slice(before);
    assert.deepEqual(since.filter((r) => r.path.includes('/blobs/') && r.method !== 'HEAD'), [], 'no blob was uploaded');
    // kiln push of the stored name pushes the converted image too.
    const pushed = await kiln(['push', `${reg.host}/app:zstd`]);
    assert.equal(pushed.code, 0, pushed.err);
    assert.match(pushed.out, new RegExp(`digest: ${(await run('skopeo', ['inspect', '--tls-verify=false', '--format', '{{.Digest}}', `docker://${reg.host}/app:zstd`])).stdout.trim()}`));
  });

  it('force-compression=true converts the base layers too', async () => {
    const forced = await build(`type=registry,name=${reg.host}/app:forced,compression=zstd,force-compression=true`);
    assert.equal(forced.code, 0, forced.err);
    assert.deepEqual((await inspect(`${reg.host}/app:forced`)).layers.map((l) => l.mediaType), [OCI_ZSTD, OCI_ZSTD]);
  });

  it('oci-mediatypes=false gives Docker schema2 types, zstd included (as BuildKit v0.34 writes them)', async () => {
    const docker = await build(`type=registry,name=${reg.host}/app:docker,compression=zstd,oci-mediatypes=false`);
    assert.equal(docker.code, 0, docker.err);
    const m = await inspect(`${reg.host}/app:docker`);
    assert.equal(m.mediaType, 'application/vnd.docker.distribution.manifest.v2+json');
    assert.equal(m.config.mediaType, 'application/vnd.docker.container.image.v1+json');
    assert.deepEqual(m.layers.map((l) => l.mediaType), ['application/vnd.docker.image.rootfs.diff.tar.gzip', 'application/vnd.docker.image.rootfs.diff.tar.zstd']);
  });

  it('type=oci takes the same keys', async () => {
    const tar = path.join(dir, 'out.tar');
    const built = await build(`type=oci,dest=${tar},compression=uncompressed,force-compression=true`);
    assert.equal(built.code, 0, built.err);
    const x = path.join(dir, 'x');
    await mkdir(x);
    await run('tar', ['-xf', tar, '-C', x]);
    const index = JSON.parse(await readFile(path.join(x, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
    const m = JSON.parse(await readFile(path.join(x, 'blobs', 'sha256', index.manifests[0]!.digest.slice(7)), 'utf8')) as RawManifest;
    assert.deepEqual(m.layers.map((l) => l.mediaType), ['application/vnd.oci.image.layer.v1.tar', 'application/vnd.oci.image.layer.v1.tar']);
    const layer = await readFile(path.join(x, 'blobs', 'sha256', m.layers[1]!.digest.slice(7)));
    assert.equal(layer.subarray(257, 262).toString('latin1'), 'ustar', 'a plain tar');
  });

  for (const [key, shown] of [
    ['compression=lz4', /compression=lz4: use gzip, zstd or uncompressed/],
    ['compression=gzip,compression-level=x', /compression-level=x: expected a whole number/],
    ['compression=gzip,compression-level=10', /compression-level=10: gzip takes 0 to 9/],
    ['force-compression=maybe', /force-compression=maybe: expected true or false/],
  ] as const) {
    it(`${key} is one clear error naming the key`, async () => {
      const bad = await build(`type=registry,name=${reg.host}/app:bad,${key}`);
      assert.equal(bad.code, 1);
      assert.match(bad.err, shown);
      assert.equal(bad.err.trim().split('\n').length, 1, bad.err);
    });
  }
});
