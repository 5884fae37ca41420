// A running build holds what it uses by a lease that `kiln prune` and `kiln rmi` honour: its
// snapshots (made or reused from the cache) and its base image survive a prune in the middle of
// a RUN, and a build killed with SIGKILL holds nothing afterwards. Real binary, real store.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { kilnBin, importBusybox, runKiln } from '../helpers/kiln-cli.js';
import { mountsUnder } from '../helpers/mountinfo.js';
import { stepEvents } from '../helpers/solve-status.js';

const run = promisify(execFile);
let dir: string;
let root: string;

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'kiln-prune-build-'));
  root = path.join(dir, 'root');
  await importBusybox(dir, root);
});

after(async () => {
  assert.deepEqual((await mountsUnder(root)).map((m) => m.mountPoint), [], 'no mount outlives the builds');
  await rm(dir, { recursive: true, force: true });
});

const steps = (lastRun: string): string => `FROM kiln.local/busybox\nCOPY f /f\nRUN echo one >/one\n${lastRun}\n`;

async function context(name: string, dockerfile: string): Promise<string> {
  const ctx = path.join(dir, name);
  await mkdir(ctx, { recursive: true });
  await writeFile(path.join(ctx, 'f'), 'from the context\n');
  await writeFile(path.join(ctx, 'Dockerfile'), dockerfile);
  return ctx;
}

interface RunningBuild {
  /** Resolves when a step whose name contains `marker` has started. */
  started: Promise<void>;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
  kill(): void;
}

function startBuild(ctx: string, tag: string, marker: string): RunningBuild {
  const child = spawn(process.execPath, [kilnBin, 'build', '--progress', 'rawjson', '--root', root, '-t', tag, ctx], { stdio: ['ignore', 'ignore', 'pipe'] });
  const lines: string[] = [];
  let onStart!: () => void;
  const started = new Promise<void>((resolve) => (onStart = resolve));
  createInterface({ input: child.stderr }).on('line', (line) => {
    lines.push(line);
    if (stepEvents(line).some((e) => e.type === 'vertex.start' && e.name.includes(marker))) onStart();
  });
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stderr: lines.join('\n') })),
  );
  return { started, done, kill: () => child.kill('SIGKILL') };
}

async function prune(): Promise<string> {
  const r = await runKiln(['prune', '--root', root]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.toString();
}

async function catInImage(tag: string, ...files: string[]): Promise<string> {
  const r = await runKiln(['run', '--rm', '--root', root, tag, 'cat', ...files]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.toString();
}

test('a prune in the middle of a RUN takes nothing the build uses, made or cached', async () => {
  const ctx = await context('fresh', steps('RUN sleep 2; ls /one /f'));
  const first = startBuild(ctx, 'first', 'sleep 2');
  await first.started;
  await prune();
  const r = await first.done;
  assert.equal(r.code, 0, r.stderr);
  assert.equal(await catInImage('first', '/one', '/f'), 'one\nfrom the context\n');

  // Now COPY and the first RUN are cache hits of the earlier build: they are held too.
  await writeFile(path.join(ctx, 'Dockerfile'), steps('RUN sleep 2; ls /one /f; echo two >/two'));
  const second = startBuild(ctx, 'second', 'echo two');
  await second.started;
  await prune();
  const r2 = await second.done;
  assert.equal(r2.code, 0, r2.stderr);
  assert.ok(stepEvents(r2.stderr).some((e) => e.type === 'vertex.cached' && e.name.includes('RUN echo one')), 'the earlier steps were reused from the cache');
  assert.equal(await catInImage('second', '/one', '/f', '/two'), 'one\nfrom the context\ntwo\n');
  assert.equal(await catInImage('first', '/one'), 'one\n', 'the earlier image is intact');
});

test('rmi and prune of the base image while a build runs on it leave the build whole', async () => {
  // A base of its own (one more file than busybox), so no other image keeps its layer.
  const tree = path.join(dir, 'own-base');
  await mkdir(tree, { recursive: true });
  await run('tar', ['-xf', path.join(dir, 'rootfs.tar'), '-C', tree]);
  await writeFile(path.join(tree, 'own'), 'own base\n');
  await run('tar', ['-cf', path.join(dir, 'own-base.tar'), '-C', tree, '.']);
  assert.equal((await runKiln(['import', path.join(dir, 'own-base.tar'), 'kiln.local/own-base', '--root', root])).code, 0);

  const ctx = await context('base-gone', 'FROM kiln.local/own-base\nRUN sleep 2; echo base >/base\nRUN cat /base\n');
  const b = startBuild(ctx, 'on-base', 'sleep 2');
  await b.started;
  assert.equal((await runKiln(['rmi', '--root', root, 'kiln.local/own-base'])).code, 0);
  await prune();
  const r = await b.done;
  assert.equal(r.code, 0, r.stderr);
  assert.equal(await catInImage('on-base', '/own', '/base'), 'own base\nbase\n');
});

test('a build killed with SIGKILL holds nothing: the next prune takes its snapshots', async () => {
  await prune();
  const ctx = await context('killed', steps('RUN echo start; sleep 30'));
  const b = startBuild(ctx, 'killed', 'sleep 30');
  await b.started;
  b.kill();
  const r = await b.done;
  assert.equal(r.signal, 'SIGKILL');
  const leases = JSON.parse(await readFile(path.join(root, 'leases.json'), 'utf8')) as { leases: Record<string, { owner?: string }> };
  assert.ok(Object.values(leases.leases).some((l) => l.owner !== undefined), 'the killed build left its lease behind');
  const out = await prune();
  // COPY's and the first RUN's commits, the RUN's writable snapshot and its views: all its own.
  const removed = Number(/(\d+) snapshots/.exec(out)?.[1]);
  assert.ok(removed >= 3, `prune removed the killed build's snapshots: ${out}`);
  const after = JSON.parse(await readFile(path.join(root, 'leases.json'), 'utf8')) as { leases: Record<string, unknown> };
  assert.deepEqual(Object.keys(after.leases), [], 'the dead build lease is dropped');
});
