// A full disk is a clear error, not a broken store: the store on a 64 MiB tmpfs, a RUN that
// writes 100 MiB, then an export that does not fit. Each fails with one line naming the step
// and the device, leaves no partial snapshot or blob, and every command works afterwards.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, mkdtemp, readdir, rm, statfs, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { importBusybox, runKiln } from '../helpers/kiln-cli.js';

const run = promisify(execFile);
let dir: string;
let mnt: string;
let root: string;
let ctx: string;

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'kiln-disk-full-'));
  mnt = path.join(dir, 'small');
  await mkdir(mnt);
  await run('mount', ['-t', 'tmpfs', '-o', 'size=64m', 'tmpfs', mnt]);
  root = path.join(mnt, 'store');
  await importBusybox(dir, root);
  ctx = path.join(dir, 'ctx');
  await mkdir(ctx);
});

after(async () => {
  await run('umount', [mnt]);
  await rm(dir, { recursive: true, force: true });
});

async function usedMiB(): Promise<number> {
  const s = await statfs(mnt);
  return ((s.blocks - s.bfree) * s.bsize) / (1 << 20);
}

async function build(tag: string, dockerfile: string): Promise<{ code: number | null; stderr: string }> {
  await writeFile(path.join(ctx, `${tag}.Dockerfile`), dockerfile);
  const r = await runKiln(['build', '--progress', 'plain', '--root', root, '-t', tag, '-f', path.join(ctx, `${tag}.Dockerfile`), ctx]);
  return { code: r.code, stderr: r.stderr };
}

function lastLine(stderr: string): string {
  return stderr.trimEnd().split('\n').at(-1) ?? '';
}

test('a RUN that fills the disk fails naming the step and the device, and leaves nothing behind', async () => {
  const before = await usedMiB();
  const r = await build('big', 'FROM kiln.local/busybox\nRUN dd if=/dev/zero of=/big bs=1M count=100\n');
  assert.equal(r.code, 1);
  const line = lastLine(r.stderr);
  assert.match(line, /^error: \[2\/2\] RUN dd if=\/dev\/zero of=\/big bs=1M count=100 \(\S*big\.Dockerfile:2\): no space left on the device holding the store /);
  assert.ok(line.includes(`(tmpfs at ${mnt})`), line);
  assert.doesNotMatch(r.stderr, /internal error|ENOSPC|    at /);
  assert.ok((await usedMiB()) - before < 2, `the step's snapshot is removed (${(await usedMiB()).toFixed(1)} MiB used, ${before.toFixed(1)} before)`);

  // Every writing command works again, and a build that fits succeeds.
  const small = await build('small', 'FROM kiln.local/busybox\nRUN dd if=/dev/zero of=/small bs=1M count=5\n');
  assert.equal(small.code, 0, small.stderr);
  assert.equal((await runKiln(['rmi', '--root', root, 'small'])).code, 0);
  assert.equal((await runKiln(['prune', '--root', root])).code, 0);
  const verified = await runKiln(['store', 'verify', '--root', root]);
  assert.equal(verified.code, 0, verified.stdout.toString());
});

test('on a disk left full, reading commands work, run says why it cannot, and prune frees it', async () => {
  // A cached step of 40 MiB, then a file outside kiln that takes the rest.
  const kept = await build('kept', 'FROM kiln.local/busybox\nRUN dd if=/dev/zero of=/kept bs=1M count=40\n');
  assert.equal(kept.code, 0, kept.stderr);
  const filler = path.join(mnt, 'filler');
  await assert.rejects(writeFile(filler, Buffer.alloc(64 << 20)), { code: 'ENOSPC' });
  try {
    const images = await runKiln(['images', '--root', root]);
    assert.equal(images.code, 0, images.stderr);
    assert.match(images.stdout.toString(), /kept/);
    const refused = await runKiln(['run', '--rm', '--root', root, 'kept', 'true']);
    assert.equal(refused.code, 125);
    assert.match(refused.stderr, /^error: no space left on the device holding the store .* while creating the container; free space there/);
    const untag = await runKiln(['rmi', '--root', root, 'kept']);
    assert.equal(untag.code, 1);
    assert.match(untag.stderr, /^error: no space left on the device holding the store .* while writing images\.json; free space there/);
    const pruned = await runKiln(['prune', '--root', root]);
    assert.equal(pruned.code, 0, pruned.stderr);
    const freed = Number(/freed ([\d.]+) MB/.exec(pruned.stdout.toString())?.[1]);
    assert.ok(freed >= 40, `prune reports the 40 MiB step it removed: ${pruned.stdout.toString()}`);
    assert.equal((await runKiln(['rmi', '--root', root, 'kept'])).code, 0, 'the build cache prune removed made room');
    assert.equal((await runKiln(['prune', '--root', root])).code, 0);
  } finally {
    await rm(filler);
  }
  assert.ok((await usedMiB()) < 10, `prune freed the 40 MiB step (${(await usedMiB()).toFixed(1)} MiB used)`);
  const ran = await runKiln(['run', '--rm', '--root', root, 'kiln.local/busybox', 'echo', 'room again']);
  assert.equal(ran.stdout.toString(), 'room again\n', ran.stderr);
});

test('a COPY that fills the disk fails naming the step and the device', async () => {
  // The context's snapshot fits; the COPY of it into the image, as much again, does not.
  const big = path.join(ctx, 'big.bin');
  await writeFile(big, Buffer.alloc(36 << 20, 1));
  try {
    const r = await build('copyfull', 'FROM kiln.local/busybox\nCOPY big.bin /big.bin\n');
    assert.equal(r.code, 1);
    const line = lastLine(r.stderr);
    assert.match(line, /^error: \[2\/2\] COPY big\.bin \/big\.bin \(\S*copyfull\.Dockerfile:2\): no space left on the device holding the store .* while running this step; free space there/);
    assert.ok(line.includes(`(tmpfs at ${mnt})`), line);
    assert.doesNotMatch(r.stderr, /internal error|    at /);
  } finally {
    await rm(big);
    assert.equal((await runKiln(['prune', '--root', root])).code, 0);
  }
});

test('an ADD of a URL whose download fills the disk fails naming the device, not the URL', async () => {
  const body = Buffer.alloc(80 << 20, 1);
  const server = createServer((_req, res) => res.end(body));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/big.bin`;
    const r = await build('addfull', `FROM kiln.local/busybox\nADD ${url} /big.bin\n`);
    assert.equal(r.code, 1);
    const line = lastLine(r.stderr);
    assert.match(line, /^error: \[2\/2\] ADD \S+ \/big\.bin \(\S*addfull\.Dockerfile:2\): no space left on the device holding the store .* while running this step; free space there/);
    assert.ok(line.includes(`(tmpfs at ${mnt})`), line);
    assert.doesNotMatch(r.stderr, /check the URL|internal error|    at /);
  } finally {
    server.close();
    assert.equal((await runKiln(['prune', '--root', root])).code, 0);
  }
});

test('an export that does not fit fails naming the device, with no partial blob', async () => {
  // Random bytes do not compress: the layer needs as much space again as the step wrote.
  const r = await build('noexport', 'FROM kiln.local/busybox\nRUN head -c 36000000 /dev/urandom >/r\n');
  assert.equal(r.code, 1);
  assert.match(lastLine(r.stderr), /^error: no space left on the device holding the store .* while exporting the image; free space there/);
  assert.deepEqual(await readdir(path.join(root, 'ingest')), [], 'no half-written blob is left');
  assert.equal((await runKiln(['prune', '--root', root])).code, 0);
  const after = await build('fits', 'FROM kiln.local/busybox\nRUN echo fits >/fits\n');
  assert.equal(after.code, 0, after.stderr);
});

test('a load of an archive too big for the disk fails naming the device, stores nothing of it, and the store verifies clean', async () => {
  // The archive is made in a store on the big disk: one 80 MB layer of random bytes.
  const bigRoot = path.join(dir, 'big-store');
  await importBusybox(path.join(dir), bigRoot);
  await writeFile(path.join(ctx, 'huge.Dockerfile'), 'FROM kiln.local/busybox\nRUN head -c 80000000 /dev/urandom >/r\n');
  const built = await runKiln(['build', '-q', '--root', bigRoot, '-t', 'huge', '-f', path.join(ctx, 'huge.Dockerfile'), ctx]);
  assert.equal(built.code, 0, built.stderr);
  const archive = path.join(dir, 'huge.tar');
  assert.equal((await runKiln(['save', '--root', bigRoot, '-o', archive, 'huge'])).code, 0);

  const r = await runKiln(['load', '--root', root, '-i', archive]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(lastLine(r.stderr), /^error: no space left on the device holding the store /);
  assert.ok(lastLine(r.stderr).includes(`(tmpfs at ${mnt})`), r.stderr);
  assert.doesNotMatch(r.stderr, /internal error|    at /);
  assert.deepEqual(await readdir(path.join(root, 'ingest')), [], 'no half-written blob is left');
  assert.doesNotMatch((await runKiln(['images', '--root', root])).stdout.toString(), /huge/);
  const verified = await runKiln(['store', 'verify', '--root', root]);
  assert.equal(verified.code, 0, verified.stdout.toString());
  // A load that fits works.
  const small = path.join(dir, 'busybox.tar');
  assert.equal((await runKiln(['save', '--root', bigRoot, '-o', small, 'kiln.local/busybox'])).code, 0);
  const loaded = await runKiln(['load', '-q', '--root', root, '-i', small]);
  assert.equal(loaded.code, 0, loaded.stderr);
});
