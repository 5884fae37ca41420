// Exec ops through the real runner on a busybox image unpacked from a real store: outputs
// committed, exit codes reported, cache mounts persisting, secrets visible only during the run.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { storeImageFromTars } from '../../exporter/image-fixture.js';
import { busyboxMissing, makeRootfs } from '../../runner/busybox-rootfs.js';
import { CacheSharingOpt, MountType, NetMode, type Mount, type Op } from '../../../solver/llb/types.js';
import { executorFor } from '../../../solver/executors/index.js';
import { ProcessFailedError } from '../../../solver/executors/errors.js';
import { listTree, openFixture, snapshotOf, vertex, withView, type Fixture } from './fixture.js';

let fx: Fixture;
let base: string;

before(async () => {
  if (busyboxMissing) return;
  fx = await openFixture({ secrets: new Map([['tok', Buffer.from('s3cret-value')]]) });
  const rootfs = await makeRootfs();
  try {
    const layer = execFileSync('tar', ['-C', rootfs.rootfs, '--numeric-owner', '-cf', '-', '.'], { maxBuffer: 64 << 20 });
    await storeImageFromTars(fx.env.store, 'kiln.local/busybox:latest', [layer]);
  } finally {
    await rootfs.cleanup();
  }
  const v = vertex({ source: { identifier: 'docker-image://kiln.local/busybox:latest' } });
  base = (await executorFor(v.op).run(v, [], fx.env, () => undefined))[0]!.snapshot!;
});

after(async () => {
  if (!busyboxMissing) await fx.cleanup();
});

interface Run {
  snapshot: string | null;
  stdout: string;
  stderr: string;
}

async function run(script: string, mounts: Mount[] = [], extraInputs: string[] = []): Promise<Run> {
  const op: Op = {
    inputs: [base, ...extraInputs].map((_s, i) => ({ digest: `sha256:${String(i).repeat(64)}` })),
    exec: {
      meta: { args: ['/bin/sh', '-c', script], env: ['PATH=/bin'], cwd: '/' },
      mounts: [{ dest: '/', input: 0, output: 0 }, ...mounts],
      network: NetMode.NONE,
    },
  };
  let stdout = '';
  let stderr = '';
  const v = vertex(op, `[1/1] RUN ${script}`);
  const [res] = await executorFor(op).run(v, [base, ...extraInputs].map((snapshot) => ({ snapshot })), fx.env, (s, c) => {
    if (s === 'stdout') stdout += c.toString();
    else stderr += c.toString();
  });
  return { snapshot: res?.snapshot ?? null, stdout, stderr };
}

test('RUN writes into a new committed snapshot on the base and streams its output', { skip: busyboxMissing }, async () => {
  const r = await run('echo hi > /f; echo to-stdout; echo to-stderr >&2');
  assert.equal(r.stdout, 'to-stdout\n');
  assert.equal(r.stderr, 'to-stderr\n');
  assert.equal((await fx.snapshotter.stat(r.snapshot!))?.kind, 'committed');
  assert.equal((await fx.snapshotter.stat(r.snapshot!))?.parent, base);
  const t = await withView(fx, r.snapshot!, (d) => listTree(d));
  assert.equal(t.f, 'hi\n');
  assert.equal(t['bin/busybox'] !== undefined, true);
});

test('a non-zero exit is a typed error naming the command and the code', { skip: busyboxMissing }, async () => {
  await assert.rejects(run('echo failing >&2; exit 3'), (err: unknown) => {
    assert.ok(err instanceof ProcessFailedError);
    assert.equal(err.exitCode, 3);
    assert.match(err.message, /process "\/bin\/sh -c echo failing >&2; exit 3" did not complete successfully: exit code: 3/);
    return true;
  });
});

test('a cache mount persists across two execs; locked and private sharing both work', { skip: busyboxMissing }, async () => {
  const cache = (sharing: number): Mount => ({ dest: '/cache', input: -1, output: -1, mountType: MountType.CACHE, cacheOpt: { id: 'pkgs', sharing } });
  await run('echo first > /cache/n', [cache(CacheSharingOpt.SHARED)]);
  const second = await run('cat /cache/n; echo again >> /cache/n', [cache(CacheSharingOpt.LOCKED)]);
  assert.equal(second.stdout, 'first\n');
  const third = await run('cat /cache/n', [cache(CacheSharingOpt.PRIVATE)]);
  assert.equal(third.stdout, 'first\nagain\n');
  const t = await withView(fx, third.snapshot!, (d) => listTree(d));
  assert.equal(t['cache/n'], undefined, 'cache contents never enter the snapshot');
  // Two concurrent private users: the second gets its own (empty) instance.
  const [a, b] = await Promise.all([
    run('cat /cache/n 2>/dev/null || echo empty; sleep 0.3', [cache(CacheSharingOpt.PRIVATE)]),
    run('sleep 0.1; cat /cache/n 2>/dev/null || echo empty', [cache(CacheSharingOpt.PRIVATE)]),
  ]);
  assert.deepEqual([a.stdout, b.stdout].sort(), ['empty\n', 'first\nagain\n']);
});

test('a secret is readable during the run, with its mode, and absent from the committed snapshot', { skip: busyboxMissing }, async () => {
  const secret: Mount = { dest: '/run/secrets/tok', input: -1, mountType: MountType.SECRET, secretOpt: { id: 'tok', uid: 0, gid: 0, mode: 0o400 } };
  const r = await run('cat /run/secrets/tok; echo; stat -c %a /run/secrets/tok; echo x > /run/secrets/tok || echo readonly', [secret]);
  assert.equal(r.stdout.split('\n')[0], 's3cret-value');
  assert.equal(r.stdout.split('\n')[1], '400');
  assert.match(r.stdout, /readonly/);
  const t = await withView(fx, r.snapshot!, (d) => listTree(d));
  assert.ok(!Object.values(t).includes('s3cret-value'), 'the secret leaked into the snapshot');
  assert.equal(t['run/secrets/tok'], undefined);

  const missing: Mount = { ...secret, secretOpt: { id: 'nope' } };
  await assert.rejects(run('true', [missing]), { code: 'KILN_SECRET_MISSING', message: /secret "nope"/ });
  const optional: Mount = { ...secret, secretOpt: { id: 'nope', optional: true } };
  assert.equal((await run('test -e /run/secrets/tok || echo none', [optional])).stdout, 'none\n');
});

test('a read-only bind of another input shows its selected sub-path and takes no writes', { skip: busyboxMissing }, async () => {
  const other = await snapshotOf(fx, { 'sub/x': 'from-other', 'top': 't' });
  const bind: Mount = { dest: '/mnt', input: 1, selector: '/sub', readonly: true, output: -1 };
  const r = await run('cat /mnt/x; echo; ls /mnt; touch /mnt/new 2>/dev/null || echo refused', [bind], [other]);
  assert.equal(r.stdout, 'from-other\nx\nrefused\n');
  const t = await withView(fx, r.snapshot!, (d) => listTree(d));
  assert.equal(t['mnt/x'], undefined);
});

test('aborting a running step stops it and releases every mount and working snapshot', { skip: busyboxMissing }, async () => {
  const before = (await fx.snapshotter.list()).map((s) => s.key).sort();
  const ctrl = new AbortController();
  const op: Op = {
    inputs: [{ digest: `sha256:${'0'.repeat(64)}` }],
    exec: { meta: { args: ['/bin/sh', '-c', 'sleep 30'], env: ['PATH=/bin'], cwd: '/' }, mounts: [{ dest: '/', input: 0, output: 0 }], network: NetMode.NONE },
  };
  const v = vertex(op, 'RUN sleep 30');
  setTimeout(() => ctrl.abort(new Error('cancelled by test')), 300);
  const started = Date.now();
  await assert.rejects(executorFor(op).run(v, [{ snapshot: base }], { ...fx.env, signal: ctrl.signal }, () => undefined));
  assert.ok(Date.now() - started < 15_000, 'the process was not stopped');
  assert.deepEqual((await fx.snapshotter.list()).map((s) => s.key).sort(), before);
});
