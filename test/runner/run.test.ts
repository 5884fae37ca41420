// runContainer with real namespaces, mounts and cgroups on a busybox rootfs: isolation, users,
// exit codes and signals, stdio, limits, and nothing left behind.

import { after, afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { runContainer } from '../../runner/run.js';
import type { ContainerSpec, RunResult } from '../../runner/spec.js';
import { ContainerSetupError, InvalidContainerSpecError, UnknownUserError } from '../../runner/errors.js';
import { busyboxMissing, leftoverCgroups, makeRootfs, mountsUnder, type Fixture } from './busybox-rootfs.js';
import { HELPER_PATH } from '../../runner/helper-path.js';

const helperDir = () => path.dirname(HELPER_PATH);

interface Output extends RunResult {
  stdout: string;
  stderr: string;
}

let fx: Fixture;

async function run(spec: Partial<ContainerSpec> & { args: string[] }, io: Parameters<typeof runContainer>[1] = {}): Promise<Output> {
  let stdout = '';
  let stderr = '';
  const result = await runContainer(
    { rootfs: fx.rootfs, env: [], cwd: '/', network: 'none', ...spec },
    { ...io, stdout: (c) => ((stdout += c.toString()), io.stdout?.(c)), stderr: (c) => (stderr += c.toString()) },
  );
  return { ...result, stdout, stderr };
}

const sh = (script: string, spec: Partial<ContainerSpec> = {}, io: Parameters<typeof runContainer>[1] = {}) =>
  run({ args: ['sh', '-c', script], ...spec }, io);

describe('runContainer', { skip: busyboxMissing }, () => {
  const hostHostname = os.hostname();
  // Each test gets a fresh rootfs and must leave no mount and no cgroup behind.
  afterEach(async () => {
    assert.deepEqual(await mountsUnder(fx.dir), []);
    assert.deepEqual(await leftoverCgroups(), []);
    assert.equal(os.hostname(), hostHostname);
    await fx.cleanup();
  });
  const fresh = async () => {
    fx = await makeRootfs();
  };

  // What the container sees of itself: PID 1, its cmdline, exe and fds, and its mounts.
  const SELF =
    'echo self=$$; echo cmdline=$(tr "\\0" " " < /proc/1/cmdline); echo exe=$(readlink /proc/1/exe); echo pid1fds=$(ls /proc/1/fd | sort -n); ' +
    'echo fds=$(ls /proc/self/fd | sort -n); echo pids=$(ls /proc | grep -E "^[0-9]+$" | sort -n); cat /proc/self/mountinfo';
  const hostTraces = (text: string) => ['kiln-ns', helperDir(), process.execPath].filter((t) => text.includes(t));

  it('runs the command as PID 1 of its own PID namespace, showing nothing of the helper', async () => {
    await fresh();
    let hostPid: number | undefined;
    const out = await sh(SELF, {}, { onStart: (pid) => (hostPid = pid) });
    assert.equal(out.exitCode, 0, out.stderr);
    assert.match(out.stdout, /^self=1$/m);
    assert.match(out.stdout, /^cmdline=sh -c echo self=/m);
    assert.match(out.stdout, /^exe=\/bin\/busybox$/m);
    // Only stdio, and ls's own directory fd: no report, control or spec fd of the helper.
    assert.match(out.stdout, /^fds=0 1 2 3$/m);
    assert.match(out.stdout, /^pids=1( \d{1,2})*$/m);
    assert.deepEqual(hostTraces(out.stdout), []);
    // The host's pid of the container's PID 1, as `kiln stop` and `kiln exec` need it.
    assert.ok(hostPid !== undefined && hostPid > 1);
  });

  it('with init: a minimal init is PID 1, the command PID 2, and the init shows no host path either', async () => {
    await fresh();
    const out = await sh(`${SELF}; echo env=$(tr "\\0" " " < /proc/1/environ); echo comm=$(cat /proc/1/comm)`, { init: true, env: ['MARK=1'] });
    assert.equal(out.exitCode, 0, out.stderr);
    assert.match(out.stdout, /^self=2$/m);
    assert.match(out.stdout, /^cmdline=init -- sh -c echo self=/m);
    assert.match(out.stdout, /^exe=\/memfd:init \(deleted\)$/m);
    assert.match(out.stdout, /^comm=init$/m);
    assert.match(out.stdout, /^pid1fds=0 1 2$/m);
    assert.match(out.stdout, /^pids=1 2( \d{1,2})*$/m);
    assert.match(out.stdout, /^fds=0 1 2 3$/m);
    // The init has the container's environment, not the helper's.
    assert.match(out.stdout, /^env=MARK=1 PATH=\S+ HOME=\/root$/m);
    assert.deepEqual(hostTraces(out.stdout), []);
  });

  it('a tty process holds its pty as 0, 1 and 2 and nothing else of the helper', async () => {
    await fresh();
    const out = await sh('echo fds=$(ls /proc/self/fd | sort -n); readlink /proc/self/fd/0', { tty: true });
    assert.equal(out.exitCode, 0, out.stdout);
    assert.match(out.stdout, /^fds=0 1 2 3\r$/m);
    assert.match(out.stdout, /^\/dev\/pts\/0\r$/m);
  });

  // Orphans the command makes (sleep 0.1 &) are reparented to PID 1, which `exec sleep` then is: it
  // never waits, so the orphan stays a zombie, as under docker; an init reaps it.
  const ZOMBIE = 'sh -c "sleep 0.6; ps -o pid,stat,comm" & sh -c "sleep 0.1 &"; exec sleep 1';

  it('leaves reaping to PID 1, as docker does: a command that never waits keeps its zombies', async () => {
    await fresh();
    const out = await sh(ZOMBIE);
    assert.equal(out.exitCode, 0, out.stderr);
    assert.match(out.stdout, /^\s+1 S\s+sleep$/m);
    assert.match(out.stdout, /^\s*\d+ Z\s+sleep$/m);
  });

  it('with init, orphans are reaped', async () => {
    await fresh();
    const out = await sh(ZOMBIE, { init: true });
    assert.equal(out.exitCode, 0, out.stderr);
    assert.match(out.stdout, /^\s+1 S\s+init$/m);
    assert.doesNotMatch(out.stdout, /^\s*\d+ Z/m);
  });

  it('ends when PID 1 ends, killing what is left in the namespace', async () => {
    await fresh();
    for (const init of [false, true]) {
      const started = Date.now();
      const out = await sh('(sleep 30 &) ; echo done', { init });
      assert.equal(out.exitCode, 0);
      assert.ok(Date.now() - started < 10_000);
    }
  });

  it('gives the container its own hostname and, as docker run, the /etc files that go with it', async () => {
    await fresh();
    const out = await sh('hostname; cat /etc/hostname; cat /etc/hosts; cat /etc/resolv.conf', { hostname: 'kiln-box', etcFiles: 'run' });
    assert.equal(out.exitCode, 0, out.stderr);
    const [h1, h2] = out.stdout.split('\n');
    assert.equal(h1, 'kiln-box');
    assert.equal(h2, 'kiln-box');
    assert.match(out.stdout, /^127\.0\.0\.1\tlocalhost$/m);
    assert.match(out.stdout, /^127\.0\.1\.1\tkiln-box$/m);
    assert.match(out.stdout, /^nameserver /m);
    assert.doesNotMatch(out.stdout, /nameserver 127\./);
  });

  it('in a RUN step, as BuildKit: /etc/hosts and /etc/resolv.conf read-only, /etc/hostname the image\'s own', async () => {
    await fresh();
    await writeFile(path.join(fx.rootfs, 'etc/hostname'), 'from-image\n');
    const upper = { upperDir: path.join(fx.dir, 'upper'), workDir: path.join(fx.dir, 'work'), lowers: [] };
    await mkdir(upper.upperDir);
    await mkdir(upper.workDir);
    const out = await sh(
      'hostname; cat /etc/hostname; grep -c localhost /etc/hosts; (echo x >> /etc/hosts) 2>/dev/null || echo hosts-ro; ' +
        '(echo x >> /etc/resolv.conf) 2>/dev/null || echo resolv-ro; rm /etc/hostname && echo removed',
      { hostname: 'kiln-box', upper },
    );
    assert.equal(out.exitCode, 0, out.stderr);
    assert.equal(out.stdout, 'kiln-box\nfrom-image\n2\nhosts-ro\nresolv-ro\nremoved\n');
    // The removal is the step's change: a whiteout (a 0/0 character device) in the upper.
    const st = await stat(path.join(upper.upperDir, 'etc/hostname'));
    assert.ok(st.isCharacterDevice() && st.rdev === 0);
    // Nothing mounted over /etc/hosts and /etc/resolv.conf reached the upper.
    assert.deepEqual((await readdir(path.join(upper.upperDir, 'etc'))).sort(), ['hostname']);
  });

  it('network none has only lo, and it is up; network host sees the host interfaces', async () => {
    await fresh();
    const none = await sh('ip -o link; ls /sys/class/net');
    assert.equal(none.exitCode, 0, none.stderr);
    const links = none.stdout.split('\n').filter((l) => /^\d+:/.test(l));
    assert.equal(links.length, 1);
    assert.match(links[0]!, /^1: lo: <LOOPBACK,UP/);
    assert.match(none.stdout, /^lo$/m);
    const hostLinks = Object.keys(os.networkInterfaces()).sort();
    const host = await sh('ls /sys/class/net', { network: 'host' });
    assert.equal(host.exitCode, 0, host.stderr);
    for (const name of hostLinks) assert.match(host.stdout, new RegExp(`^${name}$`, 'm'));
  });

  it('shows the given rootfs and no host files, and removes the mount points it had to create', async () => {
    await fresh();
    const before = (await readdir(fx.rootfs)).sort();
    const etcBefore = (await readdir(path.join(fx.rootfs, 'etc'))).sort();
    await writeFile(path.join(fx.dir, 'host-secret'), 'x');
    const out = await sh(`cat /etc/passwd; ls /; test -e ${fx.dir}/host-secret && echo LEAK; test -e /usr/bin/node && echo LEAK; true`);
    assert.equal(out.exitCode, 0, out.stderr);
    assert.ok(out.stdout.startsWith(await readFile(path.join(fx.rootfs, 'etc/passwd'), 'utf8')));
    assert.doesNotMatch(out.stdout, /LEAK/);
    for (const d of ['proc', 'dev', 'sys', 'bin', 'etc']) assert.match(out.stdout, new RegExp(`^${d}$`, 'm'));
    assert.deepEqual((await readdir(fx.rootfs)).sort(), before);
    assert.deepEqual((await readdir(path.join(fx.rootfs, 'etc'))).sort(), etcBefore);
  });

  it('mounts /proc, /dev with its devices and pts, a read-only /sys, and masks /proc/timer_list', async () => {
    await fresh();
    const out = await sh(
      'ls /dev; head -c 5 /dev/urandom | wc -c; echo x > /dev/null && echo null-ok; ' +
        'touch /sys/x 2>/dev/null || echo sys-ro; echo 1 > /proc/sys/vm/drop_caches 2>/dev/null || echo procsys-ro; ' +
        'wc -c < /proc/timer_list; grep -E "^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs)" /proc/self/status',
    );
    assert.equal(out.exitCode, 0, out.stderr);
    for (const d of ['null', 'zero', 'full', 'random', 'urandom', 'tty', 'ptmx', 'pts', 'shm']) {
      assert.match(out.stdout, new RegExp(`^${d}$`, 'm'));
    }
    assert.match(out.stdout, /^5$/m);
    assert.match(out.stdout, /^null-ok$/m);
    assert.match(out.stdout, /^sys-ro$/m);
    assert.match(out.stdout, /^procsys-ro$/m);
    // /proc/timer_list is masked by /dev/null: empty, where the host's lists its timers.
    assert.match(out.stdout, /^0$/m);
    // Docker's default capability set, none inheritable, no ambient, no_new_privs off (as docker and BuildKit's RUN).
    assert.match(out.stdout, /^CapInh:\t0000000000000000$/m);
    assert.match(out.stdout, /^CapPrm:\t00000000a80425fb$/m);
    assert.match(out.stdout, /^CapEff:\t00000000a80425fb$/m);
    assert.match(out.stdout, /^CapBnd:\t00000000a80425fb$/m);
    assert.match(out.stdout, /^CapAmb:\t0000000000000000$/m);
    assert.match(out.stdout, /^NoNewPrivs:\t0$/m);
  });

  it('sets no_new_privs only when asked (--security-opt no-new-privileges)', async () => {
    await fresh();
    const on = await sh('grep ^NoNewPrivs /proc/self/status', { noNewPrivileges: true });
    assert.equal(on.stdout, 'NoNewPrivs:\t1\n', on.stderr);
  });

  it('with an overlay upper, writes land in the upper only and two containers do not share them', async () => {
    await fresh();
    const mk = async (name: string) => {
      const upperDir = path.join(fx.dir, name, 'upper');
      const workDir = path.join(fx.dir, name, 'work');
      await mkdir(upperDir, { recursive: true });
      await mkdir(workDir, { recursive: true });
      return { upperDir, workDir, lowers: [] };
    };
    const a = await mk('a');
    const b = await mk('b');
    const wa = await sh('echo from-a > /etc/motd; echo changed >> /etc/passwd; cat /etc/motd', { upper: a });
    assert.equal(wa.exitCode, 0, wa.stderr);
    assert.equal(wa.stdout, 'from-a\n');
    const rb = await sh('cat /etc/motd 2>&1; grep -c changed /etc/passwd', { upper: b });
    assert.match(rb.stdout, /No such file/);
    assert.match(rb.stdout, /^0$/m);
    assert.equal(await readFile(path.join(a.upperDir, 'etc/motd'), 'utf8'), 'from-a\n');
    await assert.rejects(stat(path.join(fx.rootfs, 'etc/motd')));
    assert.doesNotMatch(await readFile(path.join(fx.rootfs, 'etc/passwd'), 'utf8'), /changed/);
    // Mount-point stubs made through the overlay are gone from the upper too.
    for (const stub of ['proc', 'dev', 'sys', 'etc/hosts', 'etc/hostname', 'etc/resolv.conf']) {
      await assert.rejects(stat(path.join(b.upperDir, stub)), `stub ${stub} left in the upper`);
    }
  });

  it('stacks explicit lowers, topmost first, and reads the user from the merged view', async () => {
    await fresh();
    const top = path.join(fx.dir, 'top');
    await mkdir(path.join(top, 'etc'), { recursive: true });
    await writeFile(path.join(top, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nlayered:x:4242:4242::/:/bin/sh\n');
    const upper = { upperDir: path.join(fx.dir, 'u'), workDir: path.join(fx.dir, 'w'), lowers: [top, fx.rootfs] };
    await mkdir(upper.upperDir);
    await mkdir(upper.workDir);
    const mnt = path.join(fx.dir, 'mnt');
    await mkdir(mnt);
    const out = await sh('id -u; ls /bin/busybox', { rootfs: mnt, upper, user: 'layered' });
    assert.equal(out.exitCode, 0, out.stderr);
    assert.equal(out.stdout, '4242\n/bin/busybox\n');
  });

  it('switches user, group and supplementary groups as Docker resolves them', async () => {
    await fresh();
    const id = async (user: string | undefined) => (await sh('id', user === undefined ? {} : { user })).stdout.trim();
    assert.equal(await id(undefined), 'uid=0(root) gid=0(root) groups=0(root),10(wheel)');
    assert.equal(await id('tester'), 'uid=1000(tester) gid=1000(tester) groups=10(wheel),50(staff),1000(tester)');
    assert.equal(await id('1000'), 'uid=1000(tester) gid=1000(tester) groups=10(wheel),50(staff),1000(tester)');
    assert.equal(await id('tester:staff'), 'uid=1000(tester) gid=50(staff) groups=50(staff)');
    assert.equal(await id('1000:1000'), 'uid=1000(tester) gid=1000(tester) groups=1000(tester)');
    assert.equal(await id('1234:4321'), 'uid=1234 gid=4321 groups=4321');
    assert.equal(await id('nobody'), 'uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)');
    // The groups listing the user come only with the implicit group, the primary one always, and
    // a numeric user is always a uid.
    await assert.rejects(sh('id', { user: 'ghost' }), UnknownUserError);
    await assert.rejects(sh('id', { user: 'tester:ghosts' }), UnknownUserError);
  });

  it('creates files as the container user, without root capabilities', async () => {
    await fresh();
    const out = await sh('touch /tmp/mine; stat -c %u:%g /tmp/mine; echo $HOME; touch /root/x 2>&1 || echo denied; grep CapEff /proc/self/status', {
      user: 'tester',
    });
    assert.equal(out.exitCode, 0, out.stderr);
    assert.match(out.stdout, /^1000:1000$/m);
    assert.match(out.stdout, /^\/home\/tester$/m);
    assert.match(out.stdout, /^denied$/m);
    assert.match(out.stdout, /^CapEff:\t0000000000000000$/m);
    const st = await stat(path.join(fx.rootfs, 'tmp/mine'));
    assert.equal(st.uid, 1000);
  });

  it('runs in cwd, creating it if missing, with PATH and HOME defaulted and env passed', async () => {
    await fresh();
    const out = await run({ args: ['sh', '-c', 'pwd; echo $PATH; echo $HOME; echo $GREETING'], cwd: '/work/here', env: ['GREETING=hi there'] });
    assert.equal(out.exitCode, 0, out.stderr);
    assert.equal(out.stdout, '/work/here\n/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n/root\nhi there\n');
    assert.ok((await stat(path.join(fx.rootfs, 'work/here'))).isDirectory());
  });

  it('reports exit codes 0, 1, 127 and 126 as Docker does', async () => {
    await fresh();
    assert.equal((await sh('exit 0')).exitCode, 0);
    assert.equal((await sh('exit 1')).exitCode, 1);
    const missing = await run({ args: ['no-such-command', 'x'] });
    assert.equal(missing.exitCode, 127);
    assert.match(missing.stderr, /exec: "no-such-command": executable file not found in \$PATH/);
    const missingPath = await run({ args: ['/nope/cmd'] });
    assert.equal(missingPath.exitCode, 127);
    const notExec = await run({ args: ['/etc/passwd'] });
    assert.equal(notExec.exitCode, 126);
    assert.match(notExec.stderr, /exec: "\/etc\/passwd": permission denied/);
  });

  it('reports PID 1 killed by a signal from the host as 128+N with the signal name', async () => {
    await fresh();
    const out = await run({ args: ['sleep', '30'] }, { onStart: (pid) => process.kill(pid, 'SIGKILL') });
    assert.equal(out.exitCode, 137);
    assert.equal(out.signal, 'SIGKILL');
    assert.equal(out.oomKilled, false);
  });

  it('PID 1 cannot kill itself with a signal it does not handle; under an init the command can', async () => {
    await fresh();
    const self = await sh('kill -9 $$; echo survived');
    assert.equal(self.exitCode, 0);
    assert.equal(self.stdout, 'survived\n');
    const underInit = await sh('kill -9 $$; echo survived', { init: true });
    assert.equal(underInit.exitCode, 137);
    assert.equal(underInit.stdout, '');
  });

  it('with stopGraceMs, aborting sends SIGTERM to PID 1, which can trap it', async () => {
    await fresh();
    const ac = new AbortController();
    const out = await sh('trap "echo got-term; exit 42" TERM; echo ready; while :; do sleep 0.1; done', {}, {
      signal: ac.signal,
      stopGraceMs: 10_000,
      stdout: (c) => c.toString().includes('ready') && ac.abort(),
    });
    assert.equal(out.exitCode, 42);
    assert.match(out.stdout, /got-term/);
    assert.equal(out.signal, undefined);
  });

  it('an untrapped SIGTERM does not reach PID 1, as under docker: SIGKILL ends it after the grace', async () => {
    await fresh();
    const ac = new AbortController();
    let aborted = 0;
    const started = (): void => void setTimeout(() => ((aborted = Date.now()), ac.abort()), 200);
    const out = await run({ args: ['sleep', '30'] }, { signal: ac.signal, stopGraceMs: 1000, onStart: started });
    assert.equal(out.exitCode, 137);
    assert.equal(out.signal, 'SIGKILL');
    assert.ok(Date.now() - aborted >= 900, 'SIGKILL came only after the grace');
    // Under an init, SIGTERM reaches the command, whose default action ends it: the init ends with 143.
    const ac2 = new AbortController();
    const withInit = await run({ args: ['sleep', '30'], init: true }, { signal: ac2.signal, stopGraceMs: 10_000, onStart: () => setTimeout(() => ac2.abort(), 200) });
    assert.equal(withInit.exitCode, 143);
  });

  it('without stopGraceMs, aborting kills the container at once, as BuildKit cancels a RUN', async () => {
    await fresh();
    const ac = new AbortController();
    let aborted = 0;
    const out = await sh('trap "exit 42" TERM; while :; do sleep 0.1; done', {}, { signal: ac.signal, onStart: () => setTimeout(() => ((aborted = Date.now()), ac.abort()), 200) });
    assert.equal(out.exitCode, 137);
    assert.ok(Date.now() - aborted < 2000);
  });

  it('streams stdout as it comes and feeds stdin when asked', async () => {
    await fresh();
    const chunks: { at: number; text: string }[] = [];
    const out = await sh('echo one; sleep 1; echo two >&2; echo three', {}, { stdout: (c) => chunks.push({ at: Date.now(), text: c.toString() }) });
    const end = Date.now();
    assert.equal(out.stdout, 'one\nthree\n');
    assert.equal(out.stderr, 'two\n');
    assert.equal(chunks[0]!.text, 'one\n');
    assert.ok(end - chunks[0]!.at >= 700, 'first chunk arrived only at the end');
    const cat = await run({ args: ['cat'], stdin: true }, { stdin: Readable.from([Buffer.from('hello '), Buffer.from('stdin\n')]) });
    assert.equal(cat.stdout, 'hello stdin\n');
    const noStdin = await run({ args: ['cat'] });
    assert.equal(noStdin.stdout, '');
    assert.equal(noStdin.exitCode, 0);
  });

  it('applies bind (ro and rw) and tmpfs mounts', async () => {
    await fresh();
    const shared = path.join(fx.dir, 'shared');
    const ro = path.join(fx.dir, 'ro');
    await mkdir(shared);
    await mkdir(ro);
    await writeFile(path.join(ro, 'in'), 'readonly-data\n');
    const out = await sh('cat /ro/in; touch /ro/x 2>/dev/null || echo ro-refused; echo hi > /shared/out; echo t > /scratch/t && cat /scratch/t', {
      mounts: [
        { type: 'bind', source: ro, target: '/ro', readonly: true },
        { type: 'bind', source: shared, target: '/shared' },
        { type: 'tmpfs', target: '/scratch', options: ['size=1m'] },
      ],
    });
    assert.equal(out.exitCode, 0, out.stderr);
    assert.equal(out.stdout, 'readonly-data\nro-refused\nt\n');
    assert.equal(await readFile(path.join(shared, 'out'), 'utf8'), 'hi\n');
    await assert.rejects(stat(path.join(fx.rootfs, 'scratch')));
    await assert.rejects(stat(path.join(fx.rootfs, 'ro')));
  });

  it('reports an OOM kill under a memory limit as oomKilled with exit code 137', async () => {
    await fresh();
    const out = await sh('head -c 200m /dev/zero | tail', { limits: { memory: 32 * 1024 * 1024 } });
    assert.equal(out.oomKilled, true);
    assert.equal(out.exitCode, 137);
    const fine = await sh('head -c 8m /dev/zero | tail | wc -c', { limits: { memory: 32 * 1024 * 1024 } });
    assert.equal(fine.oomKilled, false);
    assert.equal(fine.stdout.trim(), String(8 * 1024 * 1024));
  });

  it('caps the number of processes with pidsLimit', async () => {
    await fresh();
    const script = 'n=0; for i in $(seq 1 20); do sleep 2 & n=$((n+1)); done; echo started; wait';
    const limited = await sh(script, { limits: { pidsLimit: 8 } });
    assert.match(limited.stderr, /fork/i);
    const free = await sh(script);
    assert.doesNotMatch(free.stderr, /fork/i);
    assert.equal(free.exitCode, 0);
  });

  it('throws typed errors for a bad spec, an unknown user and a failed setup, leaving nothing behind', async () => {
    await fresh();
    await assert.rejects(run({ args: ['true'], rootfs: path.join(fx.dir, 'nope') }), InvalidContainerSpecError);
    await assert.rejects(run({ args: [] }), InvalidContainerSpecError);
    await assert.rejects(run({ args: ['true'], cwd: 'relative' }), InvalidContainerSpecError);
    await assert.rejects(
      run({ args: ['true'], mounts: [{ type: 'bind', source: path.join(fx.dir, 'missing'), target: '/m' }] }),
      (e: unknown) => e instanceof ContainerSetupError && e.code === 'KILN_RUN_SETUP' && /missing/.test(e.message),
    );
  });

  it('gives a real terminal with tty: true', async () => {
    await fresh();
    const out = await sh('test -t 0 && test -t 1 && echo is-a-tty; stty size', { tty: true });
    assert.equal(out.exitCode, 0, out.stdout);
    // A pty turns \n into \r\n on output, which pipes never do.
    assert.match(out.stdout, /is-a-tty\r\n/);
    assert.match(out.stdout, /24 80/);
  });

  after(async () => {
    assert.deepEqual(await leftoverCgroups(), []);
  });
});
