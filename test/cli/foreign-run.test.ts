// RUN steps and containers of another architecture (arm64 on this amd64 machine) through QEMU:
// without a binfmt_misc handler a build fails before anything runs, with the command that fixes
// it; after `kiln setup binfmt --install arm64` the same build passes under real QEMU.
//
// This test changes the kernel's binfmt_misc table, which the whole machine shares: it removes
// the arm64 handler at the start and LEAVES IT REGISTERED at the end, on purpose, because tests
// after it (multi-platform builds) need arm64; CI machines start with none registered.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { access, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { runKiln } from '../helpers/kiln-cli.js';
import { arm64Missing, importArm64Busybox } from '../helpers/foreign-busybox.js';
import { withTmpDir } from '../helpers/tmp-dir.js';
import { openSnapshotter } from '../../snapshotter/open-snapshotter.js';

const skip: string | false =
  process.getuid?.() !== 0
    ? 'needs root (binfmt_misc registration)'
    : arm64Missing() ||
      (await access('/usr/libexec/qemu-binfmt/aarch64-binfmt-P').then(
        () => false as const,
        () => 'needs qemu-user-static (apt-get install qemu-user-static)',
      ));

const FIX = 'error: this linux/amd64 machine cannot run linux/arm64 programs (no binfmt_misc handler is registered for arm64); register QEMU for it with `kiln setup binfmt --install arm64` (as root)\n';

test('a RUN for arm64 fails before running anything until `kiln setup binfmt --install arm64`, then runs under QEMU', { skip }, async () => {
  await withTmpDir('kiln-foreign-run-', async (dir) => {
    const root = path.join(dir, 'root');
    const kiln = (...args: string[]) => runKiln([...args], { env: { ...process.env, KILN_ROOT: root } });
    await importArm64Busybox(dir, root);
    const ctx = path.join(dir, 'ctx');
    await mkdir(ctx);
    await writeFile(path.join(ctx, 'Dockerfile'), 'FROM kiln.local/busybox-arm64\nRUN echo step-ran && uname -m > /arch\n');
    const snapshots = async () => (await (await openSnapshotter(root, { log: () => undefined })).list()).map((s) => s.key);

    // The imported base's own layer snapshot; a failed build must add none.
    const before = await snapshots();

    const removed = await kiln('setup', 'binfmt', '--uninstall', 'arm64');
    assert.equal(removed.code, 0, removed.stderr);
    assert.doesNotMatch(removed.stdout.toString(), /"linux\/arm64"/);

    const failed = await kiln('build', '--platform', 'linux/arm64', '--progress', 'plain', '-t', 'kiln.local/arch:1', ctx);
    assert.equal(failed.code, 1);
    assert.ok(failed.stderr.endsWith(FIX), failed.stderr);
    assert.doesNotMatch(failed.stderr + failed.stdout.toString(), /step-ran|\[1\/2\] FROM|\[2\/2\] RUN/, 'no step started');
    assert.deepEqual(await snapshots(), before, 'no snapshot was made');

    const run = await kiln('run', '--rm', 'kiln.local/busybox-arm64', 'uname', '-m');
    assert.equal(run.code, 125);
    assert.equal(run.stderr, FIX);
    assert.deepEqual(await snapshots(), before, 'no container snapshot was made');

    const setup = await kiln('setup', 'binfmt', '--install', 'arm64');
    assert.equal(setup.code, 0, setup.stderr);
    assert.match(setup.stdout.toString(), /^installing: arm64 OK \(qemu-aarch64\)\n/);
    const status = JSON.parse(setup.stdout.toString().slice(setup.stdout.indexOf('{'))) as { supported: string[]; emulators: string[] };
    assert.ok(status.supported.includes('linux/arm64') && status.emulators.includes('qemu-aarch64'), setup.stdout.toString());

    const again = await kiln('setup', 'binfmt', '--install', 'arm64');
    assert.match(again.stdout.toString(), /^installing: arm64 already registered \(qemu-aarch64\)\n/);

    const built = await kiln('build', '--platform', 'linux/arm64', '--progress', 'plain', '-t', 'kiln.local/arch:1', ctx);
    assert.equal(built.code, 0, built.stderr);
    assert.match(built.stderr, /step-ran/);
    const arch = await kiln('run', '--rm', 'kiln.local/arch:1', 'cat', '/arch');
    assert.equal(arch.stdout.toString(), 'aarch64\n', arch.stderr);

    const uname = await kiln('run', '--rm', '--platform', 'linux/arm64', 'kiln.local/busybox-arm64', 'uname', '-m');
    assert.equal(uname.code, 0, uname.stderr);
    assert.equal(uname.stdout.toString(), 'aarch64\n');

    // Only a step that will run needs the emulator: a rebuild whose RUN is cached passes without it.
    assert.equal((await kiln('setup', 'binfmt', '--uninstall', 'arm64')).code, 0);
    const cached = await kiln('build', '--platform', 'linux/arm64', '--progress', 'plain', '-t', 'kiln.local/arch:1', ctx);
    assert.equal(cached.code, 0, cached.stderr);
    assert.match(cached.stderr, /\[2\/2\] RUN echo step-ran && uname -m > \/arch\n#\d+ CACHED/);
    assert.equal((await kiln('setup', 'binfmt', '--install', 'arm64')).code, 0);
    // The handler stays registered (see the top of this file).
  });
});
