// `kiln run -t`, `kiln run -it`, `kiln exec [-t]` and the cgroup sweep as a user meets them: the real
// bin/kiln.js under a real terminal (util-linux `script`, tmux), on a store holding a busybox image.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { access, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runKiln, kilnBin, repoRoot } from '../helpers/kiln-cli.js';
import { detectHierarchies } from '../../runner/cgroups.js';

const hasTool = (t: string) => spawnSync('sh', ['-c', `command -v ${t}`]).status === 0;
const skip: string | false = await access('/bin/busybox').then(
  () => (process.getuid?.() !== 0 ? 'needs root' : !hasTool('script') ? 'needs script (util-linux)' : false),
  () => 'needs /bin/busybox (apt-get install busybox-static)',
);
const skipTmux = skip || (!hasTool('tmux') && 'needs tmux');

let dir: string;
let root: string;
const kiln = (...args: string[]) => runKiln(args, { env: { ...process.env, KILN_ROOT: root } });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
const kilnLine = (args: string[]) => [process.execPath, kilnBin, ...args].map(q).join(' ');

/**
 * Runs `kiln ARGS` on a pty of ROWSxCOLS made by `script`; returns what the terminal showed, line
 * ends as plain \n (the container's pty and script's own each turn \n into \r\n).
 */
function underScript(rows: number, cols: number, args: string[]): string {
  const line = `stty rows ${rows} cols ${cols}; ${kilnLine(args)}`;
  const shown = execFileSync('script', ['-qec', line, '/dev/null'], { env: { ...process.env, KILN_ROOT: root }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return shown.replace(/\r+\n/g, '\n');
}

async function cgroupDirsOf(id: string): Promise<string[]> {
  const found: string[] = [];
  for (const mp of new Set([...(await detectHierarchies()).values()].map((h) => h.mountpoint))) {
    const d = path.join(mp, 'kiln', id);
    if (await stat(d).then(() => true, () => false)) found.push(d);
  }
  return found;
}

/** The full id of the container named `name` in this test's store. */
async function idOf(name: string): Promise<string> {
  for (const id of await readdir(path.join(root, 'containers'))) {
    const config = await readFile(path.join(root, 'containers', id, 'config.json'), 'utf8').catch(() => '{}');
    if ((JSON.parse(config) as { name?: string }).name === name) return id;
  }
  throw new Error(`no container named ${name}`);
}

before(async () => {
  if (skip) return;
  dir = await mkdtemp(path.join(os.tmpdir(), 'kiln-tty-cli-'));
  root = path.join(dir, 'root');
  const tar = path.join(dir, 'busybox.tar');
  execFileSync('bash', [path.join(repoRoot, 'examples', 'make-busybox-rootfs.sh'), tar]);
  assert.equal((await runKiln(['import', tar, 'busybox', '-c', 'CMD ["sh"]'], { env: { ...process.env, KILN_ROOT: root } })).code, 0);
});

after(async () => {
  if (!dir) return;
  const left = (await kiln('ps', '-a', '-q')).stdout.toString().trim().split('\n').filter(Boolean);
  if (left.length) await kiln('rm', '-f', ...left);
  await rm(dir, { recursive: true, force: true });
});

test('kiln run -t: a pts of the container, at the size of the calling terminal', { skip }, () => {
  const shown = underScript(30, 100, ['run', '--rm', '-t', 'busybox', 'sh', '-c', 'tty; stty size']);
  assert.equal(shown, '/dev/pts/0\n30 100\n');
});

test('kiln run -it under tmux: echo, resize, the typed exit code, and the terminal restored', { skip: skipTmux }, async () => {
  const session = `kiln-tty-${process.pid}`;
  const status = path.join(dir, 'status');
  const cmd = `${kilnLine(['run', '--rm', '-it', 'busybox', 'sh'])}; echo $? > ${q(status)}; stty -a > ${q(status + '.stty')}; sleep 60`;
  execFileSync('tmux', ['new-session', '-d', '-s', session, '-x', '100', '-y', '30', '-e', `KILN_ROOT=${root}`, cmd]);
  const pane = () => execFileSync('tmux', ['capture-pane', '-p', '-t', session], { encoding: 'utf8' });
  const waitFor = async (re: RegExp) => {
    for (let i = 0; i < 200 && !re.test(pane()); i++) await sleep(50);
    assert.match(pane(), re);
  };
  const type = (keys: string) => execFileSync('tmux', ['send-keys', '-t', session, keys, 'Enter']);
  try {
    await waitFor(/^\/ #\s*$/m);
    type('echo hello-$((1+2)); stty size');
    await waitFor(/^hello-3\n30 100$/m);
    assert.match(pane(), /# echo hello-\$\(\(1\+2\)\); stty size$/m, 'the command is echoed as typed');
    execFileSync('tmux', ['resize-window', '-t', session, '-x', '120', '-y', '40']);
    await sleep(200);
    type('stty size');
    await waitFor(/^40 120$/m);
    type('exit 3');
    for (let i = 0; i < 200 && !(await stat(status + '.stty').then(() => true, () => false)); i++) await sleep(50);
    assert.equal((await readFile(status, 'utf8')).trim(), '3');
    // Raw mode was only for the time kiln was attached.
    assert.match(await readFile(status + '.stty', 'utf8'), /(^|\s)icanon(\s|$)/);
    assert.match(await readFile(status + '.stty', 'utf8'), /(^|\s)echo(\s|$)/);
  } finally {
    spawnSync('tmux', ['kill-session', '-t', session]);
  }
});

test('kiln run -it --init under tmux: the command holds the terminal, so ^C reaches it and not the init', { skip: skipTmux }, async () => {
  const session = `kiln-init-${process.pid}`;
  const status = path.join(dir, 'init-status');
  const cmd = `${kilnLine(['run', '--rm', '-it', '--init', 'busybox', 'sh'])}; echo $? > ${q(status)}; sleep 60`;
  execFileSync('tmux', ['new-session', '-d', '-s', session, '-x', '100', '-y', '30', '-e', `KILN_ROOT=${root}`, cmd]);
  const pane = () => execFileSync('tmux', ['capture-pane', '-p', '-t', session], { encoding: 'utf8' });
  const waitFor = async (re: RegExp) => {
    for (let i = 0; i < 200 && !re.test(pane()); i++) await sleep(50);
    assert.match(pane(), re);
  };
  const type = (...keys: string[]) => execFileSync('tmux', ['send-keys', '-t', session, ...keys]);
  try {
    await waitFor(/^\/ #\s*$/m);
    // The terminal's foreground group is the shell's own, PID 2's, not the init's.
    type('echo pid=$$ tpgid=$(cut -d" " -f8 /proc/$$/stat)', 'Enter');
    await waitFor(/^pid=2 tpgid=2$/m);
    type('sleep 100', 'Enter');
    await sleep(300);
    type('C-c');
    type('echo after=$?', 'Enter');
    await waitFor(/^after=130$/m);
    type('exit 5', 'Enter');
    for (let i = 0; i < 200 && !(await stat(status).then(() => true, () => false)); i++) await sleep(50);
    assert.equal((await readFile(status, 'utf8')).trim(), '5');
  } finally {
    spawnSync('tmux', ['kill-session', '-t', session]);
  }
});

test("kiln exec: a pts with -t, the container's cgroups, capabilities and no_new_privs", { skip }, async () => {
  assert.equal((await kiln('run', '-d', '--name', 'target', '--security-opt', 'no-new-privileges', 'busybox', 'sh', '-c', 'while true; do sleep 0.2; done')).code, 0);
  const id = await idOf('target');
  const shown = underScript(20, 90, ['exec', '-t', 'target', 'sh', '-c', 'tty; stty size']);
  assert.match(shown, /^\/dev\/pts\/\d+\n20 90\n$/);

  const cg = await kiln('exec', 'target', 'cat', '/proc/self/cgroup');
  assert.equal(cg.code, 0, cg.stderr);
  const dirs = await cgroupDirsOf(id);
  assert.ok(dirs.length > 0);
  for (const d of dirs) {
    const controller = path.basename(path.dirname(path.dirname(d)));
    assert.match(cg.stdout.toString(), new RegExp(`^\\d+:[^:]*${controller}[^:]*:/kiln/${id}$`, 'm'), `in the container's ${controller} cgroup`);
  }
  const status = (await kiln('exec', '-u', 'nobody', 'target', 'grep', '-E', '^(CapEff|CapBnd|NoNewPrivs)', '/proc/self/status')).stdout.toString();
  assert.match(status, /^CapEff:\s+0{16}$/m, 'a non-root user holds no capability');
  assert.match(status, /^CapBnd:\s+00000000a80425fb$/m, "Docker's default set bounds it");
  assert.match(status, /^NoNewPrivs:\s+1$/m, "exec keeps the container's --security-opt no-new-privileges");
  const rootStatus = (await kiln('exec', 'target', 'grep', '^CapEff', '/proc/self/status')).stdout.toString();
  assert.match(rootStatus, /^CapEff:\s+00000000a80425fb$/m);
  assert.equal((await kiln('exec', 'target', 'nosuchcmd')).code, 127);
  assert.equal((await kiln('rm', '-f', 'target')).code, 0);
  assert.deepEqual(await cgroupDirsOf(id), []);
});

test("a supervisor killed with SIGKILL: rm -f removes its container's cgroups", { skip }, async () => {
  assert.equal((await kiln('run', '-d', '--name', 'orphan', 'busybox', 'sleep', '1000')).code, 0);
  const id = await idOf('orphan');
  const state = JSON.parse(await readFile(path.join(root, 'containers', id, 'state.json'), 'utf8')) as { pid: number };
  assert.ok((await cgroupDirsOf(id)).length > 0);
  process.kill(state.pid, 'SIGKILL');
  const removed = await kiln('rm', '-f', 'orphan');
  assert.equal(removed.code, 0, removed.stderr);
  assert.deepEqual(await cgroupDirsOf(id), []);
});
