// Multi-platform builds through the real `kiln` binary (issue 13): a two-platform busybox made
// from the amd64 and arm64 images and pushed as one index to a real registry, then a build of
// linux/amd64,linux/arm64 from it whose `FROM --platform=$BUILDPLATFORM` stage runs on this
// machine only: what does not depend on the target runs once, each platform's base comes from
// the index, and the result is an index in the store, in an OCI layout tar and in the registry.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { importBusybox, runKiln } from '../helpers/kiln-cli.js';
import { arm64Missing, importArm64Busybox } from '../helpers/foreign-busybox.js';
import { startRegistry, type RegistryServer } from '../helpers/registry.js';
import { stepEvents } from '../helpers/solve-status.js';

const run = promisify(execFile);

interface IndexDoc {
  mediaType: string;
  manifests: { mediaType: string; digest: string; platform?: { os: string; architecture: string; variant?: string } }[];
}

const BUILD_STAGE = [
  'FROM --platform=$BUILDPLATFORM REG/busybox:multi AS build',
  'RUN echo compiled > /common',
  'ARG TARGETARCH',
  'RUN echo $TARGETARCH > /arch',
  'FROM REG/busybox:multi',
  'COPY --from=build /arch /common /',
  '',
].join('\n');

describe('kiln build --platform linux/amd64,linux/arm64', { skip: arm64Missing() }, () => {
  let reg: RegistryServer;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let ctx: string;
  const root = (name: string): string => path.join(dir, name);
  const kiln = async (args: string[], rootName: string) => {
    const r = await runKiln([args[0]!, '--root', root(rootName), ...args.slice(1)], { env });
    return { ...r, out: r.stdout.toString('utf8') };
  };
  const skopeoRaw = async <T>(ref: string): Promise<T> => JSON.parse((await run('skopeo', ['inspect', '--raw', '--tls-verify=false', ref])).stdout) as T;
  const platforms = (index: IndexDoc): string[] => index.manifests.map((m) => `${m.platform?.os}/${m.platform?.architecture}`);

  before(async () => {
    reg = await startRegistry();
    dir = await mkdtemp(path.join(tmpdir(), 'kiln-multi-'));
    env = { ...process.env, HOME: dir, DOCKER_CONFIG: path.join(dir, 'docker') };
    await importBusybox(dir, root('base'), env);
    await importArm64Busybox(dir, root('base'), 'kiln.local/busybox-arm64:latest', env);
    ctx = path.join(dir, 'ctx');
    await mkdir(ctx);
    await writeFile(path.join(ctx, 'Dockerfile'), BUILD_STAGE.replaceAll('REG', reg.host));
  });
  after(async () => {
    await reg?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('pushes a base image of both platforms as one index (each target picks its own base stage)', async () => {
    const base = path.join(dir, 'base-ctx');
    await mkdir(base);
    await writeFile(path.join(base, 'Dockerfile'), 'ARG TARGETARCH\nFROM kiln.local/busybox AS base-amd64\nFROM kiln.local/busybox-arm64 AS base-arm64\nFROM base-$TARGETARCH\n');
    const built = await kiln(['build', '--progress', 'plain', '--platform', 'linux/amd64,linux/arm64', '--push', '-t', `${reg.host}/busybox:multi`, base], 'base');
    assert.equal(built.code, 0, built.stderr);
    const index = await skopeoRaw<IndexDoc>(`docker://${reg.host}/busybox:multi`);
    assert.equal(index.mediaType, 'application/vnd.oci.image.index.v1+json');
    assert.deepEqual(platforms(index), ['linux/amd64', 'linux/arm64']);
    assert.equal(built.out.trim(), (await run('skopeo', ['inspect', '--tls-verify=false', '--format', '{{.Digest}}', `docker://${reg.host}/busybox:multi`])).stdout.trim(), 'the digest printed is the index pushed');
  });

  it('runs the build stage once, takes each base from the index and stores, writes and pushes one index', async () => {
    const ociTar = path.join(dir, 'multi.tar');
    const metadataFile = path.join(dir, 'metadata.json'), iidFile = path.join(dir, 'iid');
    const built = await kiln(['build', '--progress', 'rawjson', '--platform', 'linux/amd64,linux/arm64', '-t', `${reg.host}/app:multi`, '--push', '-o', `type=oci,dest=${ociTar}`,
      '--metadata-file', metadataFile, '--iidfile', iidFile, ctx], 'b');
    assert.equal(built.code, 0, built.stderr);
    const events = stepEvents(built.stderr);
    const started = events.filter((e) => e.type === 'vertex.start').map((e) => e.name);
    // Once in the whole build: not run for one platform and then found cached for the other.
    const count = (name: string): number => {
      const announced = events.filter((e) => e.name === name && (e.type === 'vertex.start' || e.type === 'vertex.cached'));
      return announced.some((e) => e.type === 'vertex.cached') ? -1 : announced.length;
    };
    assert.equal(count('[linux/amd64 build 2/4] RUN echo compiled > /common'), 1, `the step before ARG TARGETARCH runs once: ${started.join(' | ')}`);
    assert.equal(count('[linux/amd64 build 4/4] RUN echo $TARGETARCH > /arch'), 1);
    assert.equal(count('[linux/amd64->arm64 build 4/4] RUN echo $TARGETARCH > /arch'), 1, 'the cross-compiling step runs on the build platform for arm64');
    assert.equal(count('[linux/amd64 stage-1 2/2] COPY --from=build /arch /common /'), 1);
    assert.equal(count('[linux/arm64 stage-1 2/2] COPY --from=build /arch /common /'), 1);
    assert.equal(started.filter((n) => n.startsWith('[linux/amd64 build 1/4] FROM ')).length, 1, 'the build stage base is pulled once');

    const digest = built.out.trim();
    // As buildx: the index is the image's digest and ID; there is no one config digest.
    const metadata = JSON.parse(await readFile(metadataFile, 'utf8')) as Record<string, unknown>;
    assert.equal(metadata['containerimage.digest'], digest);
    const descriptor = metadata['containerimage.descriptor'] as { mediaType: string; digest: string; size: number; annotations: Record<string, string> };
    assert.deepEqual({ ...descriptor, size: 0 }, { mediaType: 'application/vnd.oci.image.index.v1+json', digest, size: 0, annotations: { 'org.opencontainers.image.created': descriptor.annotations['org.opencontainers.image.created'] } });
    assert.match(descriptor.annotations['org.opencontainers.image.created']!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(metadata['containerimage.config.digest'], undefined);
    assert.equal(await readFile(iidFile, 'utf8'), digest);
    const pushed = await skopeoRaw<IndexDoc>(`docker://${reg.host}/app:multi`);
    assert.deepEqual(platforms(pushed), ['linux/amd64', 'linux/arm64']);
    const layout = await skopeoRaw<IndexDoc>(`oci-archive:${ociTar}`);
    assert.deepEqual(layout, pushed, 'the OCI layout holds the index that was pushed');
    const top = JSON.parse((await run('tar', ['-xOf', ociTar, 'index.json'])).stdout) as IndexDoc;
    assert.deepEqual(top.manifests.map((m) => [m.mediaType, m.digest]), [['application/vnd.oci.image.index.v1+json', digest]], 'index.json names the index, as BuildKit writes it');

    // Each platform's image stands on that platform's busybox: its first layer is the base's.
    const base = await skopeoRaw<IndexDoc>(`docker://${reg.host}/busybox:multi`);
    for (const [i, arch] of ['amd64', 'arm64'].entries()) {
      const want = await skopeoRaw<{ layers: { digest: string }[] }>(`docker://${reg.host}/busybox@${base.manifests[i]!.digest}`);
      const got = await skopeoRaw<{ layers: { digest: string }[] }>(`docker://${reg.host}/app@${pushed.manifests[i]!.digest}`);
      assert.equal(got.layers[0]!.digest, want.layers[0]!.digest, `${arch} is built on the ${arch} busybox`);
      const config = JSON.parse((await run('skopeo', ['inspect', '--config', '--raw', '--tls-verify=false', `docker://${reg.host}/app@${pushed.manifests[i]!.digest}`])).stdout) as { architecture: string };
      assert.equal(config.architecture, arch);
    }
  });

  it('writes each platform\'s files (amd64, arm64) from cache, and the store shows the index once', async () => {
    const out = path.join(dir, 'rootfs');
    const built = await kiln(['build', '--progress', 'rawjson', '--platform', 'linux/amd64,linux/arm64', '-o', `type=local,dest=${out}`, ctx], 'b');
    assert.equal(built.code, 0, built.stderr);
    assert.deepEqual(stepEvents(built.stderr).filter((e) => e.type === 'vertex.start').map((e) => e.name), [], 'a rebuild runs nothing');
    for (const arch of ['amd64', 'arm64']) {
      assert.equal(await readFile(path.join(out, `linux_${arch}`, 'arch'), 'utf8'), `${arch}\n`);
      assert.equal(await readFile(path.join(out, `linux_${arch}`, 'common'), 'utf8'), 'compiled\n');
    }

    const listed = (await kiln(['images'], 'b')).out.split('\n').filter((l) => l.startsWith(`${reg.host}/app `));
    assert.equal(listed.length, 1, 'one row for the multi-platform image');
    const inspected = JSON.parse((await kiln(['inspect', `${reg.host}/app:multi`], 'b')).out) as { Index: { Manifests: IndexDoc['manifests'] }; Config: { architecture: string } };
    assert.deepEqual(platforms({ mediaType: '', manifests: inspected.Index.Manifests }), ['linux/amd64', 'linux/arm64']);
    assert.equal(inspected.Config.architecture, 'amd64', 'the host\'s image is shown');
    const arm = JSON.parse((await kiln(['inspect', '--platform', 'linux/arm64', `${reg.host}/app:multi`], 'b')).out) as { Config: { architecture: string } };
    assert.equal(arm.Config.architecture, 'arm64');
  });

  it('kiln run takes the host\'s image of the index; kiln save --platform saves one platform', async () => {
    const ran = await kiln(['run', '--rm', `${reg.host}/app:multi`, 'cat', '/arch'], 'b');
    assert.equal(ran.code, 0, ran.stderr);
    assert.equal(ran.out, 'amd64\n');
    const saved = path.join(dir, 'arm64.tar');
    const s = await kiln(['save', '--platform', 'linux/arm64', '-o', saved, `${reg.host}/app:multi`], 'b');
    assert.equal(s.code, 0, s.stderr);
    const config = JSON.parse((await run('skopeo', ['inspect', '--config', '--raw', `oci-archive:${saved}`])).stdout) as { architecture: string };
    assert.equal(config.architecture, 'arm64');
    const whole = path.join(dir, 'whole.tar');
    assert.equal((await kiln(['save', '-o', whole, `${reg.host}/app:multi`], 'b')).code, 0);
    assert.deepEqual(platforms(await skopeoRaw<IndexDoc>(`oci-archive:${whole}`)), ['linux/amd64', 'linux/arm64']);
  });

  it('a RUN of the arm64 target runs under QEMU, and the pushed index runs as arm64 from an empty store', { skip: existsSync('/usr/bin/qemu-aarch64-static') ? false : 'needs qemu-user-static (.ci/setup installs it)' }, async () => {
    // binfmt_misc is the kernel's, shared by the machine: this leaves the arm64 handler registered.
    const setup = await runKiln(['setup', 'binfmt', '--install', 'arm64'], { env });
    assert.equal(setup.code, 0, setup.stderr);
    const emu = path.join(dir, 'emu-ctx');
    await mkdir(emu);
    await writeFile(path.join(emu, 'Dockerfile'), `${BUILD_STAGE.replaceAll('REG', reg.host)}RUN uname -m > /uname\n`);
    const ref = `${reg.host}/app:emulated`;
    const built = await kiln(['build', '--progress', 'rawjson', '--platform', 'linux/amd64,linux/arm64', '--push', '-t', ref, emu], 'b');
    assert.equal(built.code, 0, built.stderr);
    const names = stepEvents(built.stderr).filter((e) => e.type === 'vertex.start').map((e) => e.name);
    assert.ok(names.includes('[linux/arm64 stage-1 3/3] RUN uname -m > /uname'), names.join(' | '));
    assert.deepEqual(platforms(await skopeoRaw<IndexDoc>(`docker://${ref}`)), ['linux/amd64', 'linux/arm64']);

    // Another machine: an empty store pulls the arm64 entry and runs it through QEMU.
    const ran = await kiln(['run', '--rm', '--platform', 'linux/arm64', ref, 'sh', '-c', 'uname -m; cat /arch /uname'], 'fresh');
    assert.equal(ran.code, 0, ran.stderr);
    assert.equal(ran.out, 'aarch64\narm64\naarch64\n');
    const native = await kiln(['run', '--rm', ref, 'cat', '/arch', '/uname'], 'fresh');
    assert.equal(native.out, 'amd64\nx86_64\n', native.stderr);
  });

  it('type=docker and --llb refuse a multi-platform build before running anything, type=docker naming type=oci', async () => {
    const r = await kiln(['build', '--progress', 'rawjson', '--no-cache', '--platform', 'linux/amd64,linux/arm64', '-o', `type=docker,dest=${path.join(dir, 'd.tar')}`, ctx], 'b');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /--output type=docker: this build makes 2 platforms \(linux\/amd64, linux\/arm64\), and a docker archive holds one platform's image; use type=oci,dest=FILE.tar/);
    assert.deepEqual(stepEvents(r.stderr), []);

    const pb = path.join(dir, 'def.pb');
    const llb = await runKiln(['debug', 'llb', '--format', 'pb', ctx], { env });
    assert.equal(llb.code, 0, llb.stderr);
    await writeFile(pb, llb.stdout);
    const fromLlb = await kiln(['build', '--progress', 'rawjson', '--platform', 'linux/amd64,linux/arm64', '--llb', pb, ctx], 'b');
    assert.equal(fromLlb.code, 1);
    assert.match(fromLlb.stderr, /--llb: this build makes 2 platforms \(linux\/amd64, linux\/arm64\), and a Definition is compiled for one; give one --platform/);
    assert.deepEqual(stepEvents(fromLlb.stderr), []);
  });
});
