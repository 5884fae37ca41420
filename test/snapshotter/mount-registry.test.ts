// No mount outlives its process: a real child mounts snapshots, then is signalled, crashes or is
// killed outright, and /proc/self/mountinfo must show nothing left under its store.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { native } from '../../native/binding.js';
import { openSnapshotter } from '../../snapshotter/open-snapshotter.js';
import { mountsUnder } from '../helpers/mountinfo.js';

const dist = path.resolve(fileURLToPath(import.meta.url), '../../..');
const snapshotsUrl = pathToFileURL(path.join(dist, 'snapshotter', 'open-snapshotter.js')).href;

interface Child {
  ready: Promise<void>;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string }>;
  kill(signal: NodeJS.Signals): void;
}

/** A node process that mounts an active snapshot and a view in `root`, says "ready", then runs `then`. */
function mountingChild(root: string, then: string): Child {
  const code = `
    import { openSnapshotter } from ${JSON.stringify(snapshotsUrl)};
    const s = await openSnapshotter(${JSON.stringify(root)}, { driver: 'overlay' });
    await s.prepare('base');
    await s.commit('c', 'base');
    await s.prepare('work', 'c');
    await s.view('look', 'c');
    await s.mount('work');
    await s.mount('look');
    console.log('ready');
    ${then}
  `;
  const proc = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const ready = new Promise<void>((resolve, reject) => {
    proc.stdout.on('data', (d: Buffer) => {
      out += d;
      if (out.includes('ready')) resolve();
    });
    proc.on('close', () => reject(new Error(`child ended before it was ready: ${out}`)));
  });
  proc.stderr.on('data', (d: Buffer) => (out += d));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string }>((resolve) =>
    proc.on('close', (code, signal) => resolve({ code, signal, out })),
  );
  return { ready, done, kill: (s) => proc.kill(s) };
}

async function withRoot(body: (root: string) => Promise<void>): Promise<void> {
  const root = await mkdtemp(path.join(tmpdir(), 'kiln-registry-'));
  try {
    await body(root);
  } finally {
    for (const m of (await mountsUnder(root)).reverse()) await native.unmount(m.mountPoint, { detach: true }).catch(() => undefined);
    await rm(root, { recursive: true, force: true });
  }
}

const keepAlive = 'setInterval(() => {}, 1000);';

for (const [signal, status] of [
  ['SIGTERM', 143],
  ['SIGINT', 130],
] as const) {
  test(`a child killed with ${signal} while holding mounts leaves none and dies of the signal (${status})`, () =>
    withRoot(async (root) => {
      const child = mountingChild(root, keepAlive);
      await child.ready;
      assert.equal((await mountsUnder(root)).length, 2, 'the child holds two mounts');
      child.kill(signal);
      const { signal: got, out } = await child.done;
      assert.equal(got, signal, `re-raised, so the shell sees ${status}: ${out}`);
      assert.deepEqual(await mountsUnder(root), []);
      assert.deepEqual(await readdir(path.join(root, 'snapshots', 'mounts')), [], 'mount points are removed');
    }));
}

test("a child's own signal handler keeps its say, and the mounts are gone before it runs", () =>
  withRoot(async (root) => {
    const child = mountingChild(
      root,
      `process.on('SIGTERM', async () => {
         const { readFileSync } = await import('node:fs');
         const left = readFileSync('/proc/self/mountinfo', 'utf8').split('\\n').filter((l) => l.includes(${JSON.stringify(root)})).length;
         console.log('left=' + left);
         process.exit(7);
       });
       ${keepAlive}`,
    );
    await child.ready;
    child.kill('SIGTERM');
    const { code, out } = await child.done;
    assert.equal(code, 7, out);
    assert.match(out, /left=0/);
    assert.deepEqual(await mountsUnder(root), []);
  }));

test('an uncaught error after mounting leaves no mount', () =>
  withRoot(async (root) => {
    const child = mountingChild(root, `setTimeout(() => { throw new Error('boom'); }, 50);`);
    await child.ready;
    const { code, out } = await child.done;
    assert.equal(code, 1);
    assert.match(out, /boom/);
    assert.deepEqual(await mountsUnder(root), []);
  }));

test('mounts of a SIGKILLed process (no handler can run) are swept by the next open of the store', () =>
  withRoot(async (root) => {
    const child = mountingChild(root, keepAlive);
    await child.ready;
    child.kill('SIGKILL');
    await child.done;
    assert.equal((await mountsUnder(root)).length, 2, 'SIGKILL leaves the mounts behind');
    await openSnapshotter(root, { driver: 'overlay' });
    assert.deepEqual(await mountsUnder(root), []);
    assert.deepEqual(await readdir(path.join(root, 'snapshots', 'mounts')), []);
  }));
