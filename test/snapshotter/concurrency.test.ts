// One store, many kiln processes at once: 8 builds (4 contexts, and 4 copies of one more) with
// `kiln prune` and `kiln rmi` running among them, then 8 containers at once with ps, logs and stop
// among them. Every build ends well or with one clear line, copies of one context give one digest
// (SOURCE_DATE_EPOCH: separate processes make their own snapshots), no image is lost, and the
// store verifies clean afterwards.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { importBusybox, runKiln } from '../helpers/kiln-cli.js';
import { mountsUnder } from '../helpers/mountinfo.js';

test('8 builds, prune and rmi at once on one store; then 8 containers with ps, logs and stop', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'kiln-concurrent-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const root = path.join(dir, 'root');
  await importBusybox(dir, root);
  const env = { ...process.env, SOURCE_DATE_EPOCH: '1700000000' };
  const kiln = (...args: string[]) => runKiln(['--root', root, ...args], { env });
  assert.equal((await kiln('tag', 'kiln.local/busybox', 'doomed')).code, 0);

  const contexts: string[] = [];
  for (let i = 0; i < 8; i++) {
    const ctx = path.join(dir, `ctx${i}`);
    await mkdir(ctx);
    // ctx4..ctx7 are copies of one context; the others differ in what they write.
    const n = i < 4 ? i : 4;
    await writeFile(path.join(ctx, 'payload'), `payload ${n}\n`.repeat(50_000));
    await writeFile(path.join(ctx, 'Dockerfile'), `FROM kiln.local/busybox\nRUN for k in $(seq 1 100); do echo ${n} $k > /f$k; done\nCOPY payload /payload\nRUN wc -l < /payload > /lines\n`);
    contexts.push(ctx);
  }
  const builds = contexts.map((ctx, i) => kiln('build', '-q', '-t', `c${i}`, ctx));
  const others = [kiln('prune'), kiln('rmi', 'doomed'), kiln('prune')];
  const results = await Promise.all(builds);
  for (const r of await Promise.all(others)) assert.equal(r.code, 0, r.stderr);
  for (const [i, r] of results.entries()) {
    assert.equal(r.code, 0, `build ${i}: ${r.stderr}`);
    assert.match(r.stdout.toString().trim(), /^sha256:[a-f0-9]{64}$/);
  }
  const ids = results.map((r) => r.stdout.toString().trim());
  assert.equal(new Set(ids.slice(4)).size, 1, 'copies of one context give one image');
  assert.equal(new Set(ids).size, 5, 'the four other contexts give four other images');

  const listed = (await kiln('images', '--format', 'json')).stdout.toString().trim().split('\n').map((l) => (JSON.parse(l) as { Repository: string }).Repository).sort();
  assert.deepEqual(listed, ['c0', 'c1', 'c2', 'c3', 'c4', 'c5', 'c6', 'c7', 'kiln.local/busybox'].sort(), 'no image lost, the removed one gone');
  const verified = await kiln('store', 'verify');
  assert.equal(verified.code, 0, verified.stdout.toString());

  // 8 containers at once, and the container commands among them.
  const started = await Promise.all(contexts.map((_, i) => kiln('run', '-d', '--name', `r${i}`, `c${i}`, 'sh', '-c', `cat /lines; echo from-${i}; exec sleep 30`)));
  for (const r of started) assert.equal(r.code, 0, r.stderr);
  const [ps, ...logs] = await Promise.all([kiln('ps'), ...contexts.map((_, i) => kiln('logs', `r${i}`))]);
  const names = ps!.stdout.toString().trim().split('\n').slice(1).map((row) => row.split(/\s+/).at(-1));
  assert.deepEqual(names.sort(), contexts.map((_, i) => `r${i}`).sort());
  for (const [i, l] of logs.entries()) assert.equal(l.stdout.toString(), `50000\nfrom-${i}\n`, l.stderr);
  const stopped = await Promise.all(contexts.map((_, i) => kiln('stop', '-t', '1', `r${i}`)));
  for (const r of stopped) assert.equal(r.code, 0, r.stderr);
  const removed = await Promise.all(contexts.map((_, i) => kiln('rm', `r${i}`)));
  for (const r of removed) assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(await mountsUnder(root), []);
  assert.equal((await kiln('store', 'verify')).code, 0);
});
