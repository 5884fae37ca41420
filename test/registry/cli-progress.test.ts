// `kiln push` on a real terminal (tmux) against a real registry: the live blob view ends as one
// line per blob with its outcome and size, the redraws leaving no stale bar behind, then the digest.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { importBusybox, kilnBin, runKiln } from '../helpers/kiln-cli.js';
import { startRegistry, type RegistryServer } from '../helpers/registry.js';

const skip = spawnSync('sh', ['-c', 'command -v tmux']).status === 0 ? false : 'needs tmux';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

let reg: RegistryServer;
let dir: string;
let env: NodeJS.ProcessEnv;

before(async () => {
  if (skip) return;
  reg = await startRegistry();
  dir = await mkdtemp(path.join(tmpdir(), 'kiln-push-tty-'));
  env = { ...process.env, HOME: dir, DOCKER_CONFIG: path.join(dir, 'docker'), KILN_ROOT: path.join(dir, 'root') };
  await importBusybox(dir, env.KILN_ROOT!, env);
  const ctx = path.join(dir, 'ctx');
  await mkdir(ctx);
  // Incompressible, so the layer is big enough to be seen moving.
  await writeFile(path.join(ctx, 'blob'), randomBytes(8 << 20));
  await writeFile(path.join(ctx, 'Dockerfile'), 'FROM kiln.local/busybox\nCOPY blob /blob\n');
  const built = await runKiln(['build', '-q', '-t', `${reg.host}/tty:1`, ctx], { env });
  assert.equal(built.code, 0, built.stderr);
});
after(async () => {
  if (skip) return;
  await reg.stop();
  await rm(dir, { recursive: true, force: true });
});

test('kiln push under tmux: one final line per blob, outcome and size, then the digest', { skip }, async () => {
  const session = `kiln-push-${process.pid}`;
  const status = path.join(dir, 'status');
  const cmd = `${[process.execPath, kilnBin, 'push', `${reg.host}/tty:1`].map(q).join(' ')}; echo $? > ${q(status)}; sleep 60`;
  execFileSync('tmux', ['new-session', '-d', '-s', session, '-x', '200', '-y', '30', '-e', `KILN_ROOT=${env.KILN_ROOT}`, '-e', `HOME=${dir}`, '-e', `DOCKER_CONFIG=${env.DOCKER_CONFIG}`, cmd]);
  const pane = () => execFileSync('tmux', ['capture-pane', '-p', '-t', session], { encoding: 'utf8' });
  try {
    for (let i = 0; i < 400 && !(await stat(status).then(() => true, () => false)); i++) await sleep(50);
    await sleep(100);
    const lines = pane().split('\n').filter((l) => l.trim() !== '');
    assert.equal(lines.length, 4, pane());
    // Two layers and the config, each once, in its final state; no bar left over from a redraw.
    for (const l of lines.slice(0, 3)) assert.match(l, /^[a-f0-9]{12}: pushed \d+(\.\d+)?[kM]?B$/);
    assert.ok(lines.some((l) => /: pushed 8\.\d+MB$/.test(l)), 'the 8 MiB layer');
    assert.match(lines[3]!, new RegExp(`^${reg.host.replace(/\./g, '\\.')}/tty:1: digest: sha256:[a-f0-9]{64}$`));
  } finally {
    spawnSync('tmux', ['kill-session', '-t', session]);
  }
});
