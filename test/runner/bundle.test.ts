// writeBundle's config.json run by the real runc: the same container as our helper gives.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { access, readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeBundle } from '../../runner/bundle.js';
import { InvalidContainerSpecError } from '../../runner/errors.js';
import type { ContainerSpec } from '../../runner/spec.js';
import { busyboxMissing, leftoverCgroups, makeRootfs, mountsUnder } from './busybox-rootfs.js';

const runcMissing = spawnSync('runc', ['--version']).error ? 'runc is not installed (apt-get install runc)' : false;

function runc(bundle: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const id = `kiln-test-${randomBytes(4).toString('hex')}`;
  const child = spawn('runc', ['run', '--bundle', bundle, id], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c));
  child.stderr.on('data', (c: Buffer) => (stderr += c));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

describe('writeBundle', () => {
  it('writes a config runc runs with our user, hostname, capabilities, limits and exit code', { skip: busyboxMissing || runcMissing }, async () => {
    const fx = await makeRootfs();
    try {
      const spec: ContainerSpec = {
        rootfs: fx.rootfs,
        args: ['sh', '-c', 'id; hostname; cat /etc/hostname; ip -o link | wc -l; grep -E "^(CapEff|NoNewPrivs|Seccomp):" /proc/self/status; echo $HOME; exit 3'],
        env: [],
        cwd: '/',
        user: 'tester',
        hostname: 'bundled',
        network: 'none',
        etcFiles: 'run',
        limits: { memory: 64 * 1024 * 1024, pidsLimit: 50, cpus: 1 },
      };
      const bundle = path.join(fx.dir, 'bundle');
      await writeBundle(spec, bundle);
      const config = JSON.parse(await readFile(path.join(bundle, 'config.json'), 'utf8'));
      assert.equal(config.root.path, fx.rootfs);
      assert.equal(config.process.rlimits, undefined);
      assert.deepEqual(config.linux.resources.pids, { limit: 50 });
      const out = await runc(bundle);
      assert.equal(out.code, 3, out.stderr);
      assert.equal(
        out.stdout,
        'uid=1000(tester) gid=1000(tester) groups=10(wheel),50(staff),1000(tester)\nbundled\nbundled\n1\nCapEff:\t0000000000000000\nNoNewPrivs:\t0\nSeccomp:\t2\n/home/tester\n',
      );
      assert.deepEqual(await mountsUnder(fx.dir), []);
      assert.deepEqual(await leftoverCgroups(), []);
    } finally {
      await fx.cleanup();
    }
  });

  it('with init, binds kiln-ns in as /dev/init: PID 1, reaping, the command under it ending with its status', { skip: busyboxMissing || runcMissing }, async () => {
    const fx = await makeRootfs();
    try {
      const bundle = path.join(fx.dir, 'bundle');
      const script = 'test $$ -ne 1 && echo not-pid1; tr "\\0" " " < /proc/1/cmdline; echo; sh -c "sleep 0.1 &"; sleep 0.3; ps -o stat | grep -c Z; exit 4';
      await writeBundle({ rootfs: fx.rootfs, args: ['sh', '-c', script], env: [], cwd: '/', network: 'none', init: true }, bundle);
      const out = await runc(bundle);
      assert.equal(out.code, 4, out.stderr);
      assert.equal(out.stdout, `not-pid1\n/dev/init -- sh -c ${script} \n0\n`);
      assert.deepEqual(await mountsUnder(fx.dir), []);
    } finally {
      await fx.cleanup();
    }
  });

  it('refuses an overlay upper: a bundle root is one directory', async () => {
    await assert.rejects(
      writeBundle(
        { rootfs: '/tmp', upper: { upperDir: '/u', workDir: '/w', lowers: [] }, args: ['true'], env: [], cwd: '/', network: 'none' },
        '/tmp/never-written',
      ),
      InvalidContainerSpecError,
    );
    await assert.rejects(access('/tmp/never-written'));
  });
});
