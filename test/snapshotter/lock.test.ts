// The flock lock file on real files and real processes: exclusion, holders that die, a full disk, timeouts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { currentOwner, ownerAlive, tryLock, withLock } from '../../snapshotter/lock.js';
import { LockTimeoutError } from '../../snapshotter/errors.js';

const lockUrl = pathToFileURL(path.resolve(fileURLToPath(import.meta.url), '../../../snapshotter/lock.js')).href;

async function tempDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'kiln-lock-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function exitOf(proc: ReturnType<typeof spawn>): Promise<{ code: number | null; out: string }> {
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => (out += d));
  proc.stderr?.on('data', (d: Buffer) => (out += d));
  return new Promise((resolve) => proc.on('close', (code) => resolve({ code, out })));
}

test('two processes incrementing one counter file under the lock lose no update', async (t) => {
  const dir = await tempDir(t);
  const counter = path.join(dir, 'counter');
  await writeFile(counter, '0');
  const code = `
    import { withLock } from ${JSON.stringify(lockUrl)};
    import { readFile, writeFile } from 'node:fs/promises';
    for (let i = 0; i < 60; i++) {
      await withLock(${JSON.stringify(counter + '.lock')}, async () => {
        const n = Number(await readFile(${JSON.stringify(counter)}, 'utf8'));
        await new Promise((r) => setTimeout(r, 1)); // widen the window a missing lock would lose
        await writeFile(${JSON.stringify(counter)}, String(n + 1));
      });
    }
  `;
  const runs = [0, 1].map(() => exitOf(spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'pipe'] })));
  for (const r of await Promise.all(runs)) assert.equal(r.code, 0, r.out);
  assert.equal(await readFile(counter, 'utf8'), '120');
  assert.equal((await stat(counter + '.lock')).size, 0, 'locking writes nothing into the lock file');
});

test('callers in one process take turns', async (t) => {
  const dir = await tempDir(t);
  let inside = 0;
  let most = 0;
  await Promise.all(
    Array.from({ length: 20 }, () =>
      withLock(path.join(dir, 'l'), async () => {
        most = Math.max(most, ++inside);
        await new Promise((r) => setTimeout(r, 1));
        inside--;
      }),
    ),
  );
  assert.equal(most, 1);
});

test('a holder killed with SIGKILL holds nothing: the lock is free at once', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'dead.lock');
  const holder = spawn(process.execPath, ['--input-type=module', '-e', `
    import { withLock } from ${JSON.stringify(lockUrl)};
    await withLock(${JSON.stringify(file)}, async () => {
      console.log('held');
      await new Promise((r) => setTimeout(r, 30000));
    });
  `], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) => holder.stdout!.on('data', (d: Buffer) => d.toString().includes('held') && resolve()));
  assert.equal(await tryLock(file), undefined, 'held while the holder runs');
  holder.kill('SIGKILL');
  await exitOf(holder);
  assert.equal(await withLock(file, async () => 'taken', { timeoutMs: 200 }), 'taken');
});

test('tryLock takes a free lock once, and gives it back', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'once.lock');
  const release = await tryLock(file);
  assert.ok(release);
  assert.equal(await tryLock(file), undefined, 'a second caller in this process does not get it');
  await release();
  const again = await tryLock(file);
  assert.ok(again, 'free after release');
  await again();
});

test('locks work on a full filesystem', async (t) => {
  const dir = await tempDir(t);
  const mnt = path.join(dir, 'full');
  await mkdir(mnt);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mnt]);
  try {
    await assert.rejects(writeFile(path.join(mnt, 'fill'), Buffer.alloc(1 << 20)), { code: 'ENOSPC' });
    assert.equal(await withLock(path.join(mnt, 'records.lock'), async () => 'locked'), 'locked');
  } finally {
    execFileSync('umount', [mnt]);
  }
});

test('a process identity names a process only while it runs, and not a recycled pid', async (t) => {
  assert.equal(ownerAlive(currentOwner()), true);
  const dead = spawn(process.execPath, ['-e', '0']);
  await exitOf(dead);
  assert.equal(ownerAlive(String(dead.pid)), false);
  const live = spawn('sleep', ['30']);
  t.after(() => void live.kill());
  assert.equal(ownerAlive(String(live.pid)), true);
  assert.equal(ownerAlive(`${live.pid}.1`), false, 'a live process whose start time does not match is another process');
});

test('a live holder makes a waiter time out with a typed error naming the file', async (t) => {
  const dir = await tempDir(t);
  const holder = spawn(process.execPath, ['--input-type=module', '-e', `
    import { withLock } from ${JSON.stringify(lockUrl)};
    await withLock(${JSON.stringify(path.join(dir, 'busy.lock'))}, async () => {
      console.log('held');
      await new Promise((r) => setTimeout(r, 30000));
    });
  `], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => void holder.kill('SIGKILL'));
  await new Promise<void>((resolve) => holder.stdout!.on('data', (d: Buffer) => d.toString().includes('held') && resolve()));
  const started = Date.now();
  await assert.rejects(
    withLock(path.join(dir, 'busy.lock'), async () => 'never', { timeoutMs: 300 }),
    (e: unknown) => e instanceof LockTimeoutError && e.code === 'KILN_LOCK_TIMEOUT' && e.message.includes('busy.lock') && e.message.includes(String(holder.pid)),
  );
  assert.ok(Date.now() - started >= 300);
});
