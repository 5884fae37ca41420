// A container's root trying the known ways out, as a hostile RUN line or image would: device
// nodes of the host's disks, /proc/1/root and other processes' roots, mounts, /proc and /sys
// writes, cgroup files. Each attempt must fail the way it fails under runc's defaults (what
// BuildKit's RUN and `docker run` do), and a canary on the host must stay untouched.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { runContainer } from '../../runner/run.js';
import { busyboxMissing, makeRootfs, type Fixture } from './busybox-rootfs.js';

let fx: Fixture;

async function sh(script: string): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const r = await runContainer(
    { rootfs: fx.rootfs, env: [], cwd: '/', network: 'none', args: ['sh', '-c', script] },
    { stdout: (c) => (stdout += c.toString()), stderr: (c) => (stderr += c.toString()) },
  );
  return { exitCode: r.exitCode ?? -1, stdout, stderr };
}

/** Every block device the host has (major:minor, from /sys/dev/block): its disks, loops, zram. */
async function hostBlockDevices(): Promise<string[]> {
  return (await readdir('/sys/dev/block')).filter((d) => /^\d+:\d+$/.test(d));
}

describe('escape attempts from a container', { skip: busyboxMissing }, () => {
  const canary = `/tmp/kiln-escape-canary-${process.pid}`;
  before(async () => {
    fx = await makeRootfs();
    await writeFile(canary, 'host\n');
  });
  after(async () => {
    await fx.cleanup();
    await rm(canary, { force: true });
  });

  it('can create device nodes but open only the harmless ones (the device cgroup)', async () => {
    const blocks = await hostBlockDevices();
    assert.ok(blocks.length > 0, 'the host lists no block device');
    const tryBlocks = blocks
      .map((d, i) => `mknod /tmp/b${i} b ${d.replace(':', ' ')} && head -c 1 /tmp/b${i} >/dev/null 2>&1 && echo OPENED-${d}`)
      .join('; ');
    const out = await sh(
      `${tryBlocks}; ` +
        // Writing /dev/kmsg needs no capability: it would put lines into the host's kernel log.
        'mknod /tmp/kmsg c 1 11 && (echo kiln-escape > /tmp/kmsg) 2>/dev/null && echo KMSG-WRITTEN; ' +
        'mknod /tmp/fuse c 10 229 && (: < /tmp/fuse) 2>/dev/null && echo FUSE-OPENED; ' +
        'mknod /tmp/random c 1 8 && head -c 4 /tmp/random | wc -c',
    );
    assert.equal(out.exitCode, 0, out.stderr);
    assert.deepEqual(out.stdout.trim().split('\n'), ['4']);
  });

  it('sees only its own processes and root: /proc/1/root is the container, the host canary is not there', async () => {
    const name = path.basename(canary);
    const out = await sh(
      `ls /proc/1/root/tmp/${name} 2>/dev/null && echo VIA-PROC1; for r in /proc/[0-9]*/root; do ls "$r/tmp/${name}" 2>/dev/null && echo VIA-$r; done; ` +
        `ls /proc/1/root/bin/busybox >/dev/null && echo own-root; chroot /proc/1/root ls /tmp/${name} 2>/dev/null || echo chroot-own`,
    );
    assert.equal(out.exitCode, 0, out.stderr);
    assert.deepEqual(out.stdout.trim().split('\n'), ['own-root', 'chroot-own']);
  });

  it('cannot mount, remount /proc or /sys writable, or write the kernel\'s and the cgroups\' knobs', async () => {
    const out = await sh(
      'mount -t proc proc /mnt 2>/dev/null && echo MOUNTED-PROC || echo mount-denied; ' +
        'mount -o remount,rw /sys 2>/dev/null && echo SYS-RW || echo sys-stays-ro; ' +
        'mount -o remount,rw /proc/sys 2>/dev/null && echo PROCSYS-RW || echo procsys-stays-ro; ' +
        'echo 1 > /proc/sys/kernel/sysrq 2>/dev/null && echo SYSRQ-WRITTEN || echo sysrq-ro; ' +
        'echo h > /proc/sysrq-trigger 2>/dev/null && echo TRIGGER-WRITTEN || echo trigger-ro; ' +
        'mkdir /sys/fs/cgroup/x 2>/dev/null && echo CGROUP-MADE || echo cgroup-ro; ' +
        // /proc/keys lists the host's keys (it is not empty here); masked, it reads as /dev/null.
        'wc -c < /proc/keys',
    );
    assert.equal(out.exitCode, 0, out.stderr);
    assert.deepEqual(out.stdout.trim().split('\n'), ['mount-denied', 'sys-stays-ro', 'procsys-stays-ro', 'sysrq-ro', 'trigger-ro', 'cgroup-ro', '0']);
    assert.equal(await readFile(canary, 'utf8'), 'host\n');
  });
});
