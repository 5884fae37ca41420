// The registry flow through the real `kiln` binary against a real registry: build --push, skopeo
// reading what kiln pushed, an unchanged re-push uploading nothing, pull into an empty store and
// run, FROM a registry image with an empty store, cross-repository mounts, and an image skopeo
// pushed (Docker media types) pulled and run by kiln, and Docker Hub names through a mirror.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { importBusybox, runKiln } from '../helpers/kiln-cli.js';
import { startRegistry, type RegistryServer } from '../helpers/registry.js';

const run = promisify(execFile);
const DIGEST = /sha256:[a-f0-9]{64}/;

describe('kiln and a registry, end to end', () => {
  let reg: RegistryServer;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const root = (name: string): string => path.join(dir, name);
  const kiln = async (args: string[], rootName: string, input?: string) => {
    const r = await runKiln([args[0]!, '--root', root(rootName), ...args.slice(1)], { env, ...(input !== undefined ? { input } : {}) });
    return { ...r, out: r.stdout.toString('utf8') };
  };

  before(async () => {
    reg = await startRegistry();
    dir = await mkdtemp(path.join(tmpdir(), 'kiln-reg-cli-'));
    env = { ...process.env, HOME: dir, DOCKER_CONFIG: path.join(dir, 'docker'), SOURCE_DATE_EPOCH: '1700000000' };
    await importBusybox(dir, root('a'), env);
  });
  after(async () => {
    await reg.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('build --push, then skopeo reads the manifest kiln pushed', async () => {
    const ctx = path.join(dir, 'ctx');
    await mkdir(ctx);
    await writeFile(path.join(ctx, 'Dockerfile'), 'FROM kiln.local/busybox\nRUN echo hello-registry > /hi\n');
    const built = await kiln(['build', '--progress', 'plain', '--push', '-t', `${reg.host}/app:1`, ctx], 'a');
    assert.equal(built.code, 0, built.stderr);
    assert.match(built.stderr, new RegExp(`pushing ${reg.host}/app:1`));
    assert.match(built.stderr, /sha256:[a-f0-9]{64} pushed \d+ bytes/);
    const digest = built.out.trim();
    assert.match(digest, DIGEST);
    const raw = await run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/app:1`]);
    const manifest = JSON.parse(raw.stdout) as { mediaType: string; layers: unknown[] };
    assert.equal(manifest.mediaType, 'application/vnd.oci.image.manifest.v1+json');
    assert.equal(manifest.layers.length, 2);
    const inspected = await run('skopeo', ['inspect', '--tls-verify=false', `docker://${reg.host}/app:1`]);
    assert.equal((JSON.parse(inspected.stdout) as { Digest: string }).Digest, digest);
  });

  it('an unchanged re-push uploads no blob', async () => {
    const before = (await reg.requests()).length;
    const pushed = await kiln(['push', `${reg.host}/app:1`], 'a');
    assert.equal(pushed.code, 0, pushed.stderr);
    const lines = pushed.out.trim().split('\n');
    assert.deepEqual(lines.slice(0, -1).map((l) => l.replace(DIGEST, 'D')), ['D: exists', 'D: exists', 'D: exists']);
    assert.match(lines.at(-1)!, new RegExp(`^${reg.host}/app:1: digest: sha256:`));
    const since = (await reg.requests()).slice(before);
    assert.deepEqual(since.filter((r) => r.path.includes('/blobs/') && r.method !== 'HEAD'), [], 'no blob was uploaded');
  });

  it('pulls into an empty store, verified, and runs it; pulling again fetches nothing', async () => {
    const pulled = await kiln(['pull', `${reg.host}/app:1`], 'b');
    assert.equal(pulled.code, 0, pulled.stderr);
    assert.equal(pulled.out.split('\n').filter((l) => l.endsWith(': fetched')).length, 3);
    assert.match(pulled.out, new RegExp(`\n${reg.host}/app:1\n$`));
    const ran = await kiln(['run', '--rm', `${reg.host}/app:1`, 'cat', '/hi'], 'b');
    assert.equal(ran.code, 0, ran.stderr);
    assert.equal(ran.out, 'hello-registry\n');
    const again = await kiln(['pull', `${reg.host}/app:1`], 'b');
    assert.equal(again.out.split('\n').filter((l) => l.endsWith(': present')).length, 3);
    // Removed and pulled back: the same image.
    assert.equal((await kiln(['rmi', `${reg.host}/app:1`], 'b')).code, 0);
    assert.equal((await kiln(['pull', `${reg.host}/app:1`], 'b')).code, 0);
    assert.equal((await kiln(['run', '--rm', `${reg.host}/app:1`, 'cat', '/hi'], 'b')).out, 'hello-registry\n');
  });

  it('kiln run pulls an image the store lacks, as docker run does; --pull=always follows a moved tag, never pulls nothing', async () => {
    const ctx = path.join(dir, 'ctx-runpull');
    await mkdir(ctx);
    const pushVersion = async (v: string): Promise<void> => {
      await writeFile(path.join(ctx, 'Dockerfile'), `FROM kiln.local/busybox\nRUN echo ${v} > /v\n`);
      const built = await kiln(['build', '--push', '-t', `${reg.host}/runpull:1`, ctx], 'a');
      assert.equal(built.code, 0, built.stderr);
    };
    await pushVersion('one');
    const ref = `${reg.host}/runpull:1`;

    const never = await kiln(['run', '--rm', '--pull=never', ref, 'cat', '/v'], 'r');
    assert.equal(never.code, 125);
    assert.match(never.stderr, /not found in the store/);
    assert.doesNotMatch(never.stderr, /Unable to find/);
    assert.equal((await kiln(['images', '-q'], 'r')).out, '');

    const first = await kiln(['run', '--rm', ref, 'cat', '/v'], 'r');
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.out, 'one\n', 'the container\'s stdout holds only its own output');
    assert.match(first.stderr, new RegExp(`^Unable to find image '${ref}' locally\n`));
    assert.equal(first.stderr.split('\n').filter((l) => l.endsWith(': fetched')).length, 3, first.stderr);
    assert.match(first.stderr, new RegExp(`Digest: sha256:[a-f0-9]{64}\n${ref}\n`));

    await pushVersion('two');
    const missing = await kiln(['run', '--rm', ref, 'cat', '/v'], 'r');
    assert.equal(missing.out, 'one\n', 'the store has it: no pull');
    assert.equal(missing.stderr, '');
    const always = await kiln(['run', '--rm', '--pull', 'always', ref, 'cat', '/v'], 'r');
    assert.equal(always.code, 0, always.stderr);
    assert.equal(always.out, 'two\n');
    assert.doesNotMatch(always.stderr, /Unable to find/);

    const bad = await kiln(['run', '--pull=sometimes', ref, 'true'], 'r');
    assert.equal(bad.code, 125);
    assert.match(bad.stderr, /^error: --pull=sometimes: use always, missing, never\n$/);
  });

  it('builds FROM a registry image with an empty store, printing the resolved digest', async () => {
    const ctx = path.join(dir, 'ctx-from');
    await mkdir(ctx);
    await writeFile(path.join(ctx, 'Dockerfile'), `FROM ${reg.host}/app:1\nCOPY --from=${reg.host}/app:1 /hi /copied\nRUN cat /hi /copied > /both\n`);
    const built = await kiln(['build', '--progress', 'plain', '-t', `${reg.host}/derived:1`, ctx], 'c');
    assert.equal(built.code, 0, built.stderr);
    assert.match(built.stderr, new RegExp(`resolve ${reg.host.replace(/\./g, '\\.')}/app:1@sha256:[a-f0-9]{64}`));
    const ran = await kiln(['run', '--rm', `${reg.host}/derived:1`, 'cat', '/both'], 'c');
    assert.equal(ran.out, 'hello-registry\nhello-registry\n');

    // Its base came from app on the same registry: pushing it mounts the base's layers from there.
    const pushed = await kiln(['push', `${reg.host}/derived:1`], 'c');
    assert.equal(pushed.code, 0, pushed.stderr);
    const statuses = pushed.out.trim().split('\n').slice(0, -1).map((l) => l.split(': ')[1]);
    assert.equal(statuses.filter((s) => s === 'mounted').length, 2, pushed.out);
    assert.equal(statuses.filter((s) => s === 'pushed').length, 3, pushed.out); // the config, the COPY and the RUN layers
  });

  it('RUN --mount=from= and a cache mount from= an image only the registry has, with an empty store', async () => {
    const src = path.join(dir, 'ctx-mountsrc');
    await mkdir(src);
    await writeFile(path.join(src, 'Dockerfile'), 'FROM kiln.local/busybox\nRUN mkdir /data && echo from-mount > /data/m\n');
    assert.equal((await kiln(['build', '--push', '-t', `${reg.host}/mountsrc:1`, src], 'a')).code, 0);
    const ctx = path.join(dir, 'ctx-mount');
    await mkdir(ctx);
    await writeFile(
      path.join(ctx, 'Dockerfile'),
      `FROM ${reg.host}/app:1\n` +
        `RUN --mount=from=${reg.host}/mountsrc:1,target=/src cat /src/data/m > /bound\n` +
        `RUN --mount=type=cache,target=/c,from=${reg.host}/mountsrc:1,source=/data cat /c/m > /cached\n`,
    );
    const built = await kiln(['build', '--progress', 'plain', '-t', 'mounted', ctx], 'm');
    assert.equal(built.code, 0, built.stderr);
    assert.match(built.stderr, new RegExp(`resolve ${reg.host.replace(/\./g, '\\.')}/mountsrc:1@sha256:[a-f0-9]{64}`));
    const ran = await kiln(['run', '--rm', 'mounted', 'cat', '/bound', '/cached'], 'm');
    assert.equal(ran.code, 0, ran.stderr);
    assert.equal(ran.out, 'from-mount\nfrom-mount\n');
  });

  it("expands WORKDIR $VAR from a pulled base image's Env (issue 10), with an empty store", async () => {
    const base = path.join(dir, 'ctx-gobase');
    await mkdir(base);
    await writeFile(path.join(base, 'Dockerfile'), 'FROM kiln.local/busybox\nENV GOPATH=/go\n');
    assert.equal((await kiln(['build', '--push', '-t', `${reg.host}/gobase:1`, base], 'a')).code, 0);
    const ctx = path.join(dir, 'ctx-gopath');
    await mkdir(ctx);
    await writeFile(path.join(ctx, 'Dockerfile'), `FROM ${reg.host}/gobase:1\nWORKDIR $GOPATH/src\nRUN pwd > /pwd\n`);
    const built = await kiln(['build', '-q', '-t', 'gopath', ctx], 'g');
    assert.equal(built.code, 0, built.stderr);
    const inspected = JSON.parse((await kiln(['inspect', 'gopath'], 'g')).out) as { Config: { config?: { WorkingDir?: string } } };
    assert.equal(inspected.Config.config?.WorkingDir, '/go/src');
    assert.equal((await kiln(['run', '--rm', 'gopath', 'cat', '/pwd'], 'g')).out, '/go/src\n');
  });

  it('pulls Docker Hub names from KILN_REGISTRY_MIRRORS first, recording them under docker.io', async () => {
    assert.equal((await kiln(['tag', 'kiln.local/busybox', `${reg.host}/library/busybox:mirrored`], 'a')).code, 0);
    assert.equal((await kiln(['push', `${reg.host}/library/busybox:mirrored`], 'a')).code, 0);
    const saved = env;
    env = { ...env, KILN_REGISTRY_MIRRORS: `http://${reg.host}/` };
    try {
      const pulled = await kiln(['pull', 'busybox:mirrored'], 'e');
      assert.equal(pulled.code, 0, pulled.stderr);
      assert.match(pulled.out, /\ndocker\.io\/library\/busybox:mirrored\n$/);
      const ran = await kiln(['run', '--rm', 'busybox:mirrored', 'echo', 'via-mirror'], 'e');
      assert.equal(ran.out, 'via-mirror\n');
    } finally {
      env = saved;
    }
  });

  it('pulls and runs an image skopeo pushed with Docker media types', async () => {
    const tar = path.join(dir, 'busybox-oci.tar');
    assert.equal((await kiln(['save', '-o', tar, 'kiln.local/busybox'], 'a')).code, 0);
    await run('skopeo', ['copy', '--format', 'v2s2', '--dest-tls-verify=false', `oci-archive:${tar}`, `docker://${reg.host}/sk/busybox:v2s2`]);
    const raw = JSON.parse((await run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/sk/busybox:v2s2`])).stdout) as { mediaType: string };
    assert.equal(raw.mediaType, 'application/vnd.docker.distribution.manifest.v2+json');
    assert.equal((await kiln(['pull', `${reg.host}/sk/busybox:v2s2`], 'd')).code, 0);
    const ran = await kiln(['run', '--rm', `${reg.host}/sk/busybox:v2s2`, 'echo', 'from-skopeo'], 'd');
    assert.equal(ran.code, 0, ran.stderr);
    assert.equal(ran.out, 'from-skopeo\n');
  });
});
