// `kiln run` and friends as a user runs them: the real bin/kiln.js in child processes, on a store
// holding a busybox image made by `kiln import`, real overlays, namespaces, cgroups and runc.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { access, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runKiln, repoRoot } from '../helpers/kiln-cli.js';
import { leftoverCgroups, mountsUnder } from '../runner/busybox-rootfs.js';
import { openSnapshotter } from '../../snapshotter/open-snapshotter.js';

const skip: string | false = await access('/bin/busybox').then(
  () => (process.getuid?.() === 0 ? false : 'needs root'),
  () => 'needs /bin/busybox (apt-get install busybox-static)',
);
const hasRunc = spawnSync('runc', ['--version']).status === 0;

let dir: string;
let root: string;

const kiln = (...args: string[]) => runKiln(args, { env: { ...process.env, KILN_ROOT: root } });
const out = (r: { stdout: Buffer }) => r.stdout.toString('utf8');

async function containerIds(): Promise<string[]> {
  return (await readdir(path.join(root, 'containers')).catch(() => [] as string[])).filter((n) => /^[a-f0-9]{64}$/.test(n));
}

async function containerSnapshots(): Promise<string[]> {
  const s = await openSnapshotter(root, { log: () => undefined });
  return (await s.list()).map((x) => x.key).filter((k) => k.startsWith('container-'));
}

before(async () => {
  if (skip) return;
  dir = await mkdtemp(path.join(os.tmpdir(), 'kiln-run-cli-'));
  root = path.join(dir, 'root');
  const tar = path.join(dir, 'busybox.tar');
  execFileSync('bash', [path.join(repoRoot, 'examples', 'make-busybox-rootfs.sh'), tar]);
  const imp = (...a: string[]) => runKiln(['import', ...a], { env: { ...process.env, KILN_ROOT: root } });
  assert.equal((await imp(tar, 'busybox', '-c', 'CMD ["sh"]')).code, 0);
  assert.equal((await imp(tar, 'echoer', '-c', 'ENTRYPOINT ["echo", "ep"]', '-c', 'CMD ["default"]', '-c', 'ENV GREETING=image WHO=image', '-c', 'WORKDIR /tmp')).code, 0);
});

after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

afterEach(async () => {
  if (skip) return;
  // A failed test may leave containers running; they must not fail the tests after it.
  const left = await containerIds();
  if (left.length > 0) await kiln('rm', '-f', ...left);
  assert.deepEqual(await mountsUnder(root), [], 'mounts left under the store');
  assert.deepEqual(await leftoverCgroups(), [], 'cgroups left behind');
});

test('foreground run: output, exit codes 0/1/127, stderr apart', { skip }, async () => {
  const ok = await kiln('run', '--rm', 'busybox', 'sh', '-c', 'echo out; echo err >&2');
  assert.equal(ok.code, 0);
  assert.equal(out(ok), 'out\n');
  assert.equal(ok.stderr, 'err\n');
  assert.equal((await kiln('run', '--rm', 'busybox', 'false')).code, 1);
  assert.equal((await kiln('run', '--rm', 'busybox', 'sh', '-c', 'exit 42')).code, 42);
  const missing = await kiln('run', '--rm', 'busybox', 'nosuchcmd');
  assert.equal(missing.code, 127);
  assert.match(missing.stderr, /exec: "nosuchcmd": executable file not found in \$PATH/);
  assert.deepEqual(await containerIds(), []);
});

test('--rm leaves no state and no snapshot; without it the container stays, exited', { skip }, async () => {
  assert.equal((await kiln('run', '--rm', 'busybox', 'true')).code, 0);
  assert.deepEqual(await containerIds(), []);
  assert.deepEqual(await containerSnapshots(), []);
  assert.equal((await kiln('run', '--name', 'kept', 'busybox', 'sh', '-c', 'exit 3')).code, 3);
  const ps = out(await kiln('ps', '-a'));
  assert.match(ps, /^CONTAINER ID +IMAGE +COMMAND +CREATED +STATUS +NAMES\n/);
  assert.match(ps, /[a-f0-9]{12} +busybox +"sh -c exit 3" +.* ago +Exited \(3\) .* ago +kept\n/);
  assert.equal(out(await kiln('ps')).split('\n').length, 2, 'an exited container is not listed without -a');
  assert.equal((await containerSnapshots()).length, 1);
  assert.equal((await kiln('rm', 'kept')).code, 0);
  assert.deepEqual(await containerIds(), []);
  assert.deepEqual(await containerSnapshots(), []);
});

test('a write in one container is seen neither in another nor in the image', { skip }, async () => {
  assert.equal((await kiln('run', '--name', 'writer', 'busybox', 'sh', '-c', 'echo mine > /etc/motd; rm /bin/ls')).code, 0);
  const other = await kiln('run', '--rm', 'busybox', 'sh', '-c', 'cat /etc/motd; ls /bin/ls');
  assert.doesNotMatch(out(other), /mine/);
  assert.match(out(other), /\/bin\/ls/);
  // commit: the container's change becomes a new image's top layer.
  const id = out(await kiln('commit', 'writer', 'committed:v1')).trim();
  assert.match(id, /^sha256:[a-f0-9]{64}$/);
  const seen = await kiln('run', '--rm', 'committed:v1', 'sh', '-c', 'cat /etc/motd; test -e /bin/ls || echo ls-gone');
  assert.equal(out(seen), 'mine\nls-gone\n');
  assert.equal((await kiln('rm', 'writer')).code, 0);
});

test('-e, --env-file, -w, -u, --entrypoint and the ENTRYPOINT/CMD rules', { skip }, async () => {
  assert.equal(out(await kiln('run', '--rm', 'echoer')), 'ep default\n');
  assert.equal(out(await kiln('run', '--rm', 'echoer', 'a', 'b')), 'ep a b\n');
  assert.equal(out(await kiln('run', '--rm', '--entrypoint', 'pwd', 'echoer')), '/tmp\n', 'the image CMD is dropped with --entrypoint; WORKDIR kept');
  const envFile = path.join(dir, 'vars.env');
  await writeFile(envFile, '# vars\nWHO=file\nFROMFILE=1\n');
  const env = await kiln('run', '--rm', '--env-file', envFile, '-e', 'GREETING=flag', '--entrypoint', 'sh', 'echoer', '-c', 'echo $GREETING $WHO $FROMFILE');
  assert.equal(out(env), 'flag file 1\n');
  const user = await kiln('run', '--rm', '-u', 'nobody', '-w', '/var/tmp', 'busybox', 'sh', '-c', 'id -u; pwd');
  assert.equal(out(user), '65534\n/var/tmp\n');
  const badUser = await kiln('run', '--rm', '-u', 'ghost', 'busybox', 'true');
  assert.equal(badUser.code, 125);
  assert.match(badUser.stderr, /^error: .*ghost.*\n$/);
});

test('--network none shows only lo; --hostname is set', { skip }, async () => {
  const r = await kiln('run', '--rm', '--network', 'none', '--hostname', 'box', 'busybox', 'sh', '-c', 'ls /sys/class/net; hostname');
  assert.equal(out(r), 'lo\nbox\n');
});

test('-d, ps, logs, exec, stop and rm across separate kiln processes', { skip }, async () => {
  const started = await kiln('run', '-d', '--name', 'bg', '-e', 'MARK=set', 'busybox', 'sh', '-c',
    'echo started; echo to-err >&2; trap "echo got-term; exit 7" TERM; while true; do sleep 0.1; done');
  assert.equal(started.code, 0, started.stderr);
  const id = out(started).trim();
  assert.match(id, /^[a-f0-9]{64}$/);
  assert.match(out(await kiln('ps')), new RegExp(`^${id.slice(0, 12)} +busybox +"sh -c echo started;…" .* Up .* bg$`, 'm'));
  assert.equal(out(await kiln('ps', '-q')), id.slice(0, 12) + '\n');
  // The detached output reaches the log, each stream to its own.
  let logs = await kiln('logs', 'bg');
  for (let i = 0; i < 50 && !out(logs).includes('started'); i++) logs = await kiln('logs', 'bg');
  assert.equal(out(logs), 'started\n');
  assert.equal(logs.stderr, 'to-err\n');

  const ex = await kiln('exec', '-e', 'EXTRA=1', '-w', '/etc', 'bg', 'sh', '-c', 'echo $MARK $EXTRA; pwd; cat /proc/1/cmdline | tr "\\0" " "; ps -o pid,args | grep -c "while true"');
  assert.equal(ex.code, 0, ex.stderr);
  const lines = out(ex).split('\n');
  assert.equal(lines[0], 'set 1');
  assert.equal(lines[1], '/etc');
  assert.match(lines[2] ?? '', /^sh -c echo started; /, "exec runs in the container's PID namespace, whose PID 1 is the command");
  assert.equal((await kiln('exec', 'bg', 'sh', '-c', 'exit 5')).code, 5);
  assert.equal((await kiln('exec', 'bg', 'nosuchcmd')).code, 127);

  const rmRunning = await kiln('rm', 'bg');
  assert.equal(rmRunning.code, 1);
  assert.match(rmRunning.stderr, /^error: container bg is running/);

  const stop = await kiln('stop', '-t', '5', 'bg');
  assert.equal(stop.code, 0);
  assert.equal(out(stop), 'bg\n');
  assert.match(out(await kiln('ps', '-a')), /Exited \(7\) .* bg/);
  assert.equal(out(await kiln('logs', '--tail', '1', 'bg')), 'got-term\n');
  assert.equal((await kiln('exec', 'bg', 'true')).code, 125);
  assert.equal((await kiln('rm', 'bg')).code, 0);
  assert.deepEqual(await containerIds(), []);
  assert.deepEqual(await containerSnapshots(), []);
});

test('kill -s and rm -f on running containers', { skip }, async () => {
  const id = out(await kiln('run', '-d', '--name', 'k1', 'busybox', 'sh', '-c', 'trap "exit 12" USR1; while true; do sleep 0.1; done')).trim();
  assert.match(id, /^[a-f0-9]{64}$/);
  assert.equal((await kiln('kill', '-s', 'USR1', 'k1')).code, 0);
  for (let i = 0; i < 100 && !/Exited/.test(out(await kiln('ps', '-a'))); i++) await new Promise((r) => setTimeout(r, 50));
  assert.match(out(await kiln('ps', '-a')), /Exited \(12\) .* k1/);
  assert.equal((await kiln('run', '-d', '--name', 'k2', 'busybox', 'sleep', '1000')).code, 0);
  assert.equal((await kiln('rm', '-f', 'k2', 'k1')).code, 0);
  assert.deepEqual(await containerIds(), []);
});

test('stop as docker stops: PID 1 ignoring SIGTERM gets SIGKILL after -t; under --init SIGTERM reaches the command', { skip }, async () => {
  const ignoring = out(await kiln('run', '-d', '--name', 'deaf', 'busybox', 'sleep', '1000')).trim();
  assert.match(ignoring, /^[a-f0-9]{64}$/);
  const t0 = Date.now();
  assert.equal((await kiln('stop', '-t', '1', 'deaf')).code, 0);
  assert.ok(Date.now() - t0 >= 1000, 'SIGKILL came only after the timeout');
  assert.match(out(await kiln('ps', '-a')), /Exited \(137\) .* deaf/);
  // Under --init, SIGTERM reaches sleep, whose default action ends it at once.
  assert.equal((await kiln('run', '-d', '--init', '--name', 'inited', 'busybox', 'sleep', '1000')).code, 0);
  const t1 = Date.now();
  assert.equal((await kiln('stop', '-t', '10', 'inited')).code, 0);
  assert.ok(Date.now() - t1 < 5000, 'the init passed SIGTERM on');
  assert.match(out(await kiln('ps', '-a')), /Exited \(143\) .* inited/);
  assert.equal((await kiln('rm', 'deaf', 'inited')).code, 0);
});

test('--init: an init as PID 1 whose /proc shows no host path, reaping orphans, exiting with the command', { skip }, async () => {
  const script = 'echo $$; tr "\\0" " " < /proc/1/cmdline; echo; readlink /proc/1/exe; ls /proc/1/fd | tr "\\n" " "; echo; ' +
    'sh -c "sleep 0.1 &"; sleep 0.4; ps -o stat | grep -c Z; exit 3';
  const r = await kiln('run', '--rm', '--init', 'busybox', 'sh', '-c', script);
  assert.equal(r.code, 3, r.stderr);
  assert.equal(out(r), `2\ninit -- sh -c ${script} \n/memfd:init (deleted)\n0 1 2 \n0\n`);
  // Without it the command is PID 1 itself, as under docker run.
  const plain = await kiln('run', '--rm', 'busybox', 'sh', '-c', 'echo $$; tr "\\0" " " < /proc/1/cmdline; true');
  assert.equal(out(plain), '1\nsh -c echo $$; tr "\\0" " " < /proc/1/cmdline; true ');
});

test('--runtime=runc runs the same container through runc', { skip: skip || (!hasRunc && 'runc is not installed') }, async () => {
  const r = await kiln('run', '--rm', '--runtime=runc', '--network', 'none', 'busybox', 'sh', '-c', 'echo via-runc; ls /sys/class/net; exit 4');
  assert.equal(r.code, 4, r.stderr);
  assert.equal(out(r), 'via-runc\nlo\n');
  assert.deepEqual(await containerIds(), []);
});

test('bad input: one line each, status 125, nothing left behind', { skip }, async () => {
  const cases: [string[], RegExp][] = [
    [['run', '--rm', '--pull=never', 'nosuchimage'], /^error: image "nosuchimage" not found/],
    [['run', '--rm', '-v', 'nope', 'busybox', 'true'], /^error: -v "nope": expected SRC:DST/],
    [['run', '--rm', '--memory', '1000000000000t', 'busybox', 'true'], /^error: cgroup limits: .*EINVAL/],
    [['run', '-d', '--memory', '1000000000000t', 'busybox', 'true'], /^error: cgroup limits: .*EINVAL/],
    [['run', '--rm', '--security-opt', 'seccomp=/profile.json', 'busybox', 'true'], /^error: --security-opt "seccomp=\/profile.json": kiln runs Docker.s default seccomp filter or none/],
    [['run', '--rm', '--security-opt', 'apparmor=x', 'busybox', 'true'], /^error: --security-opt "apparmor=x": kiln knows no-new-privileges/],
  ];
  for (const [args, message] of cases) {
    const r = await kiln(...args);
    assert.equal(r.code, 125, args.join(' '));
    assert.match(r.stderr, message);
    assert.equal(r.stderr.split('\n').length, 2, `one line: ${r.stderr}`);
    assert.deepEqual(await containerIds(), [], args.join(' '));
    assert.deepEqual(await containerSnapshots(), [], args.join(' '));
  }
  assert.equal((await kiln('run', '--name', 'taken', 'busybox', 'true')).code, 0);
  const dup = await kiln('run', '--name', 'taken', 'busybox', 'true');
  assert.equal(dup.code, 125);
  assert.match(dup.stderr, /^error: the container name "taken" is already in use by container [a-f0-9]{12};.*\n$/);
  assert.equal((await containerIds()).length, 1);
  assert.equal((await kiln('rm', 'taken')).code, 0);
  assert.match((await kiln('logs', 'nobody-here')).stderr, /^error: no such container: nobody-here/);
});

test('stdin reaches the container only with -i, as with docker run', { skip }, async () => {
  const run = (...a: string[]) => runKiln(['run', '--rm', ...a], { env: { ...process.env, KILN_ROOT: root }, input: 'piped in\n' });
  const without = await run('busybox', 'sh', '-c', 'cat; echo "read $?"');
  assert.equal(out(without), 'read 0\n', 'without -i the command reads an empty stdin');
  const withI = await run('-i', 'busybox', 'sh', '-c', 'cat; echo "read $?"');
  assert.equal(out(withI), 'piped in\nread 0\n');
});

test("seccomp: Docker's default filter (a user namespace is refused) unless --security-opt seccomp=unconfined, under either runtime", { skip }, async () => {
  const probe = 'grep ^Seccomp: /proc/self/status; unshare -U true 2>/dev/null && echo userns-allowed || echo userns-refused';
  for (const runtime of hasRunc ? ['kiln', 'runc'] : ['kiln']) {
    const filtered = await kiln('run', '--rm', '--runtime', runtime, 'busybox', 'sh', '-c', probe);
    assert.equal(out(filtered), 'Seccomp:\t2\nuserns-refused\n', `${runtime}: ${filtered.stderr}`);
    const open = await kiln('run', '--rm', '--runtime', runtime, '--security-opt', 'seccomp=unconfined', 'busybox', 'sh', '-c', probe);
    assert.equal(out(open), 'Seccomp:\t0\nuserns-allowed\n', `${runtime}: ${open.stderr}`);
  }
});
