// The many-machines path, end to end through the real `kiln` binary and a real registry: two
// separate stores ("machines") each build one platform and push it by digest (no tag), then a
// third with no store at all writes the index with `kiln manifest create`, reading each config
// and never a layer; skopeo and kiln (pull --platform linux/arm64, run under QEMU) read it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { access, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { importBusybox, runKiln } from '../helpers/kiln-cli.js';
import { arm64Missing, importArm64Busybox } from '../helpers/foreign-busybox.js';
import { startRegistry, type RegistryServer } from '../helpers/registry.js';
import { sha256Digest } from '../../oci/digest.js';

const run = promisify(execFile);
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

const skip: string | false = arm64Missing() || (process.getuid?.() !== 0 ? 'needs root' : false);

interface Metadata {
  'containerimage.digest': string;
  'containerimage.config.digest': string;
  'containerimage.descriptor': { mediaType: string; digest: string; size: number; platform: { architecture: string; os: string } };
  'image.name'?: string;
}

describe('push-by-digest on two machines, then kiln manifest create', { skip }, () => {
  let reg: RegistryServer;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const digests: Record<string, string> = {};
  const configs: Record<string, string> = {};
  const root = (name: string): string => path.join(dir, name);
  const kiln = async (args: string[], rootName: string) => {
    const r = await runKiln([args[0]!, '--root', root(rootName), ...args.slice(1)].filter((a) => a !== ''), { env });
    return { ...r, out: r.stdout.toString('utf8') };
  };
  // Commands that take no store (manifest create/inspect) run with one that must stay empty.
  const kilnNoStore = async (args: string[]) => {
    const r = await runKiln(args, { env: { ...env, KILN_ROOT: root('none') } });
    return { ...r, out: r.stdout.toString('utf8') };
  };

  before(async () => {
    reg = await startRegistry();
    dir = await mkdtemp(path.join(tmpdir(), 'kiln-scale-out-'));
    env = { ...process.env, HOME: dir, DOCKER_CONFIG: path.join(dir, 'docker'), SOURCE_DATE_EPOCH: '1700000000' };
    // Each machine has its own store with its own architecture's busybox under the same name.
    await importBusybox(path.join(dir), root('amd64'), env);
    await mkdir(path.join(dir, 'arm'));
    await importArm64Busybox(path.join(dir, 'arm'), root('arm64'), 'kiln.local/busybox:latest', env);
  });
  after(async () => {
    await reg?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  for (const [arch, output] of [
    ['amd64', `type=image,name=${'REG'}/app,push-by-digest=true,push=true`],
    ['arm64', `type=registry,name=${'REG'}/app,push-by-digest=true`],
  ] as const) {
    it(`machine ${arch}: --output ${output} pushes the manifest without a tag and prints its digest`, async () => {
      const ctx = path.join(dir, `ctx-${arch}`);
      await mkdir(ctx);
      // No RUN: this machine builds its own platform natively; copying a file shows whose image it is.
      await writeFile(path.join(ctx, 'Dockerfile'), 'FROM kiln.local/busybox\nCOPY arch /arch\n');
      await writeFile(path.join(ctx, 'arch'), `${arch}\n`);
      const meta = path.join(dir, `meta-${arch}.json`);
      const built = await kiln(['build', '--progress', 'plain', arch === 'arm64' ? '--platform=linux/arm64' : '', '--output', output.replace('REG', reg.host), '--metadata-file', meta, ctx], arch);
      assert.equal(built.code, 0, built.stderr);
      const digest = built.out.trim();
      assert.match(digest, DIGEST);
      assert.match(built.stderr, new RegExp(`pushing ${reg.host}/app@${digest}`));
      digests[arch] = digest;

      const metadata = JSON.parse(await readFile(meta, 'utf8')) as Metadata;
      assert.equal(metadata['containerimage.digest'], digest);
      const raw = await run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/app@${digest}`]);
      assert.equal(sha256Digest(Buffer.from(raw.stdout)), digest, 'the registry holds the very manifest the build made');
      const descriptor = metadata['containerimage.descriptor'];
      assert.deepEqual({ ...descriptor, annotations: undefined }, { mediaType: OCI_MANIFEST, digest, size: Buffer.byteLength(raw.stdout), platform: { architecture: arch, os: 'linux' }, annotations: undefined });
      assert.equal(metadata['image.name'], `${reg.host}/app`);
      configs[arch] = metadata['containerimage.config.digest'];

      // The distribution registry answers 404 for a repository with no tag at all.
      const tags = await fetch(`http://${reg.host}/v2/app/tags/list`);
      const listed = tags.status === 200 ? ((await tags.json()) as { tags: string[] | null }).tags ?? [] : [];
      assert.ok(tags.status === 200 || tags.status === 404, `tags/list answered ${tags.status}`);
      assert.deepEqual(listed, [], 'nothing is tagged');
      const images = await kiln(['images'], arch);
      assert.doesNotMatch(images.out, new RegExp(`${reg.host}/app`), 'the repository is not recorded under a made-up tag');
    });
  }

  it('push-by-digest refuses a tagged name, and does nothing silently without push', async () => {
    const tagged = await kiln(['build', '--output', `type=registry,name=${reg.host}/app:1,push-by-digest=true`, path.join(dir, 'ctx-amd64')], 'amd64');
    assert.equal(tagged.code, 1);
    assert.match(tagged.stderr, new RegExp(`cannot push the tagged name ${reg.host}/app:1 by digest; give the repository alone`));
    const noPush = await kiln(['build', '--output', `type=image,name=${reg.host}/app,push-by-digest=true`, path.join(dir, 'ctx-amd64')], 'amd64');
    assert.equal(noPush.code, 1);
    assert.match(noPush.stderr, /push-by-digest=true pushes only with push=true; add push=true or use type=registry/);
  });

  it('kiln manifest create writes an index of both, reading their configs and no layer', async () => {
    const before = (await reg.requests()).length;
    const created = await kilnNoStore(['manifest', 'create', '-t', `${reg.host}/app:1`, `${reg.host}/app@${digests.amd64}`, `${reg.host}/app@${digests.arm64}`]);
    assert.equal(created.code, 0, created.stderr);
    const indexDigest = created.out.trim();
    assert.match(indexDigest, DIGEST);
    assert.equal(created.stderr, `pushing ${indexDigest} to ${reg.host}/app:1\n`);

    const gets = (await reg.requests()).slice(before).filter((r) => r.method === 'GET' && r.path.includes('/blobs/')).map((r) => r.path.split('/').pop()).sort();
    assert.deepEqual(gets, [configs.amd64, configs.arm64].sort(), 'only the two configs were read');
    await assert.rejects(access(root('none')), 'manifest create uses no store');

    const raw = await run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/app:1`]);
    assert.equal(sha256Digest(Buffer.from(raw.stdout)), indexDigest);
    const index = JSON.parse(raw.stdout) as { schemaVersion: number; mediaType: string; manifests: { mediaType: string; digest: string; size: number; platform: unknown }[] };
    assert.equal(index.schemaVersion, 2);
    assert.equal(index.mediaType, OCI_INDEX);
    assert.deepEqual(index.manifests.map((m) => [m.mediaType, m.digest, m.platform]), [
      [OCI_MANIFEST, digests.amd64, { architecture: 'amd64', os: 'linux' }],
      [OCI_MANIFEST, digests.arm64, { architecture: 'arm64', os: 'linux' }],
    ]);
    // skopeo picks each platform out of it as any client does.
    for (const arch of ['amd64', 'arm64']) {
      const config = await run('skopeo', ['inspect', '--config', '--raw', '--tls-verify=false', '--override-arch', arch, '--override-os', 'linux', `docker://${reg.host}/app:1`]);
      assert.equal(sha256Digest(Buffer.from(config.stdout)), configs[arch]);
    }
  });

  it('kiln manifest inspect prints the index as buildx imagetools inspect does; --raw gives its bytes', async () => {
    const text = await kilnNoStore(['manifest', 'inspect', `${reg.host}/app:1`]);
    assert.equal(text.code, 0, text.stderr);
    const raw = await kilnNoStore(['imagetools', 'inspect', '--raw', `${reg.host}/app:1`]);
    const name = `${reg.host}/app:1`;
    assert.equal(
      text.out,
      `Name:      ${name}\nMediaType: ${OCI_INDEX}\nDigest:    ${sha256Digest(raw.stdout)}\n           \nManifests: \n` +
        `  Name:      ${name}@${digests.amd64}\n  MediaType: ${OCI_MANIFEST}\n  Platform:  linux/amd64\n             \n` +
        `  Name:      ${name}@${digests.arm64}\n  MediaType: ${OCI_MANIFEST}\n  Platform:  linux/arm64\n`,
    );
    const single = await kilnNoStore(['manifest', 'inspect', `${reg.host}/app@${digests.arm64}`]);
    assert.equal(single.out, `Name:      ${reg.host}/app@${digests.arm64}\nMediaType: ${OCI_MANIFEST}\nDigest:    ${digests.arm64}\n`);
  });

  it('kiln pull --platform linux/arm64 of the index takes the arm64 machine\'s image', async () => {
    const pulled = await kiln(['pull', '--platform', 'linux/arm64', `${reg.host}/app:1`], 'puller');
    assert.equal(pulled.code, 0, pulled.stderr);
    const setup = await runKiln(['setup', 'binfmt', '--install', 'arm64'], { env });
    assert.equal(setup.code, 0, setup.stderr);
    const file = await kiln(['run', '--rm', '--platform', 'linux/arm64', `${reg.host}/app:1`, 'cat', '/arch'], 'puller');
    assert.equal(file.out, 'arm64\n', file.stderr);
    const uname = await kiln(['run', '--rm', '--platform', 'linux/arm64', `${reg.host}/app:1`, 'uname', '-m'], 'puller');
    assert.equal(uname.out, 'aarch64\n', uname.stderr);
  });

  it('--append adds to the index a tag has; another repository of the registry gets the manifests by mounted blobs', async () => {
    const first = await kilnNoStore(['manifest', 'create', '-t', `${reg.host}/app:2`, `${reg.host}/app@${digests.amd64}`]);
    assert.equal(first.code, 0, first.stderr);
    const appended = await kilnNoStore(['manifest', 'create', '--append', '-t', `${reg.host}/app:2`, `${reg.host}/app@${digests.arm64}`]);
    assert.equal(appended.code, 0, appended.stderr);
    const two = JSON.parse((await run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/app:2`])).stdout) as { manifests: { digest: string }[] };
    assert.deepEqual(two.manifests.map((m) => m.digest), [digests.amd64, digests.arm64]);
    // The index of app:1 (a source that is an index adds every entry) into another repository.
    const before = (await reg.requests()).length;
    const other = await kilnNoStore(['imagetools', 'create', '-t', `${reg.host}/release:1`, `${reg.host}/app:1`]);
    assert.equal(other.code, 0, other.stderr);
    assert.match(other.stderr, new RegExp(`copying ${digests.amd64} from ${reg.host}/app@${digests.amd64} to ${reg.host}/release`));
    const requests = (await reg.requests()).slice(before);
    assert.ok(requests.some((r) => r.method === 'POST' && r.path.includes('mount=') && r.status === 201), 'blobs were mounted');
    assert.ok(!requests.some((r) => r.method === 'PATCH' || (r.method === 'PUT' && r.path.includes('/blobs/'))), 'no blob was uploaded');
    assert.ok(!requests.some((r) => r.method === 'GET' && r.path.includes('/blobs/')), 'no blob was downloaded');
    const copied = await run('skopeo', ['inspect', '--config', '--raw', '--tls-verify=false', '--override-arch', 'arm64', '--override-os', 'linux', `docker://${reg.host}/release:1`]);
    assert.equal(sha256Digest(Buffer.from(copied.stdout)), configs.arm64);
    const manifest = await run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/release@${digests.arm64}`]);
    assert.equal(sha256Digest(Buffer.from(manifest.stdout)), digests.arm64);
  });
});
