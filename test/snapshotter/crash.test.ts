// The crash harness, short run (bench/crash.sh runs the long one): builds of a two-stage context
// that writes files and exports layers are killed with SIGKILL (kiln, its helpers and the step's
// processes) at random moments; after each kill `kiln store verify` must find the store clean once
// kiln's start-up recovery ran, no mount or process may be left, and afterwards a rebuild works
// and the image built before the crashes still runs. Save, load, rmi, prune, push and pull are
// killed the same way.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { importBusybox, kilnBin, runKiln } from '../helpers/kiln-cli.js';
import { mountsUnder } from '../helpers/mountinfo.js';
import { startRegistry } from '../helpers/registry.js';

const ITERATIONS = Number(process.env.KILN_CRASH_ITERATIONS ?? 10);

/** A small deterministic generator, so a failing run can be repeated from its seed. */
function random(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

/**
 * Runs kiln with `args` in a process group of its own and kills the whole group (kiln, kiln-ns and
 * what a step runs, as a power cut would take them) after `delayMs`; true when it was still running.
 */
async function killedAfter(root: string, args: string[], delayMs: number): Promise<boolean> {
  const child = spawn(process.execPath, [kilnBin, '--root', root, ...args], { detached: true, stdio: 'ignore' });
  const ended = new Promise<NodeJS.Signals | null>((resolve) => child.on('close', (_code, signal) => resolve(signal)));
  await new Promise((resolve) => setTimeout(resolve, delayMs));
  try {
    process.kill(-child.pid!, 'SIGKILL');
  } catch {
    // It finished first: what ran to the end must verify clean too.
  }
  return (await ended) === 'SIGKILL';
}

/** A store holding busybox in a temp dir, removed after the test, and kiln on it. */
async function crashStore(t: { after: (fn: () => Promise<void>) => void }, prefix: string) {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const root = path.join(dir, 'root');
  await importBusybox(dir, root);
  return { dir, root, kiln: (...args: string[]) => runKiln(['--root', root, ...args]) };
}

async function processesWith(token: string): Promise<number[]> {
  const pids: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const cmdline = await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(token)) pids.push(Number(name));
  }
  return pids;
}

test(`${ITERATIONS} builds killed with SIGKILL at random moments leave a store that verifies clean, with no mount or process left`, async (t) => {
  const seed = Number(process.env.KILN_CRASH_SEED ?? Date.now() % 100_000);
  t.diagnostic(`seed ${seed} (KILN_CRASH_SEED repeats it)`);
  const next = random(seed);
  const { dir, root, kiln } = await crashStore(t, 'kiln-crash-');

  const ctx = path.join(dir, 'ctx');
  await mkdir(ctx);
  await writeFile(path.join(ctx, 'data'), Buffer.alloc(4 << 20, 7));
  const token = `crash-token-${seed}`;
  await writeFile(
    path.join(ctx, 'Dockerfile'),
    [
      'FROM kiln.local/busybox AS gen',
      'ARG I=0',
      `RUN mkdir /out && for n in $(seq 1 300); do echo "$I $n" > /out/f$n; done && sleep 0.2 # ${token}`,
      'COPY data /out/data',
      'FROM kiln.local/busybox',
      'COPY --from=gen /out /out',
      `RUN cat /out/f1 > /first && sleep 0.2 # ${token}`,
      '',
    ].join('\n'),
  );
  const earlier = await kiln('build', '-q', '-t', 'earlier', '--build-arg', 'I=earlier', ctx);
  assert.equal(earlier.code, 0, earlier.stderr);

  const killedAt: number[] = [];
  let killed = 0;
  let recovered = 0;
  for (let i = 0; i < ITERATIONS; i++) {
    // From kiln's start-up to its export: a build here takes 1-2 s.
    const delay = Math.floor(100 + next() * 2000);
    killedAt.push(delay);
    if (await killedAfter(root, ['build', '-q', '--no-cache', '-t', `crash:${i}`, '--build-arg', `I=${i}`, ctx], delay)) killed++;
    const verified = await kiln('store', 'verify');
    if (verified.stdout.toString().startsWith('recovered')) recovered++;
    assert.equal(verified.code, 0, `iteration ${i} (killed after ${delay} ms): ${verified.stdout}${verified.stderr}`);
    assert.deepEqual(await mountsUnder(root), [], `iteration ${i}: mounts left`);
    for (let wait = 0; wait < 20 && (await processesWith(token)).length > 0; wait++) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(await processesWith(token), [], `iteration ${i}: processes of the killed build left`);
  }
  t.diagnostic(`killed after ${killedAt.join(', ')} ms; ${killed} builds killed before they ended, ${recovered} left something the recovery cleared`);
  assert.ok(killed > 0, 'the harness killed no build: it tests nothing');

  const rebuilt = await kiln('build', '-q', '-t', 'after', '--build-arg', 'I=after', ctx);
  assert.equal(rebuilt.code, 0, rebuilt.stderr);
  assert.equal((await kiln('run', '--rm', 'after', 'cat', '/first')).stdout.toString(), 'after 1\n');
  const ran = await kiln('run', '--rm', 'earlier', 'sh', '-c', 'cat /first; wc -c < /out/data');
  assert.equal(ran.stdout.toString(), `earlier 1\n${4 << 20}\n`, ran.stderr);
  const final = await kiln('store', 'verify');
  assert.equal(final.code, 0, final.stdout.toString());
});

test('save, load, rmi and prune killed with SIGKILL at random moments leave a store that verifies clean and an archive that is whole or absent', async (t) => {
  const seed = Number(process.env.KILN_CRASH_SEED ?? Date.now() % 100_000);
  t.diagnostic(`seed ${seed}`);
  const next = random(seed);
  const { dir, root, kiln } = await crashStore(t, 'kiln-crash-ops-');
  const ctx = path.join(dir, 'ctx');
  await mkdir(ctx);
  await writeFile(path.join(ctx, 'Dockerfile'), 'FROM kiln.local/busybox\nRUN head -c 30000000 /dev/urandom > /r && echo kept > /kept\n');
  assert.equal((await kiln('build', '-q', '-t', 'keep', ctx)).code, 0);
  const archive = path.join(dir, 'keep.tar');
  assert.equal((await kiln('save', '-o', archive, 'keep')).code, 0);

  const ops: [string, () => string[]][] = [
    ['save', () => ['save', '-o', path.join(dir, 'out.tar'), 'keep']],
    ['load', () => ['load', '-q', '-i', archive]],
    ['rmi', () => ['rmi', 'copy']],
    ['prune', () => ['prune']],
  ];
  let killed = 0;
  for (let round = 0; round < Math.max(1, Math.round(ITERATIONS / 4)); round++) {
    for (const [name, args] of ops) {
      if (name === 'rmi') assert.equal((await kiln('tag', 'keep', 'copy')).code, 0);
      await rm(path.join(dir, 'out.tar'), { force: true });
      const delay = Math.floor(next() * 400);
      if (await killedAfter(root, args(), delay)) killed++;
      const verified = await kiln('store', 'verify');
      assert.equal(verified.code, 0, `${name} killed after ${delay} ms: ${verified.stdout}${verified.stderr}`);
      const out = await readFile(path.join(dir, 'out.tar')).catch(() => undefined);
      if (out !== undefined) {
        // A save that got to rename its archive into place wrote all of it.
        const other = path.join(dir, 'other');
        const loaded = await runKiln(['--root', other, 'load', '-q', '-i', path.join(dir, 'out.tar')]);
        assert.equal(loaded.code, 0, `a saved archive is whole: ${loaded.stderr}`);
        await rm(other, { recursive: true, force: true });
      }
      const ran = await kiln('run', '--rm', 'keep', 'cat', '/kept');
      assert.equal(ran.stdout.toString(), 'kept\n', `${name} killed after ${delay} ms: ${ran.stderr}`);
    }
  }
  t.diagnostic(`${killed} operations killed before they ended`);
  assert.ok(killed > 0, 'the harness killed nothing: it tests nothing');
});

test('push and pull killed with SIGKILL at random moments leave a store that verifies clean, and the next push and pull complete', async (t) => {
  const seed = Number(process.env.KILN_CRASH_SEED ?? Date.now() % 100_000);
  t.diagnostic(`seed ${seed}`);
  const next = random(seed);
  const { dir, root, kiln } = await crashStore(t, 'kiln-crash-registry-');
  const reg = await startRegistry();
  t.after(() => reg.stop());
  const ctx = path.join(dir, 'ctx');
  await mkdir(ctx);
  await writeFile(path.join(ctx, 'Dockerfile'), 'FROM kiln.local/busybox\nRUN head -c 40000000 /dev/urandom > /r && echo pushed > /kept\n');
  const ref = `${reg.host}/crash/app:1`;
  assert.equal((await kiln('build', '-q', '-t', ref, ctx)).code, 0);
  const puller = path.join(dir, 'puller');

  let killed = 0;
  for (let round = 0; round < Math.max(1, Math.round(ITERATIONS / 4)); round++) {
    const pushDelay = Math.floor(150 + next() * 600);
    if (await killedAfter(root, ['push', ref], pushDelay)) killed++;
    const verified = await kiln('store', 'verify');
    assert.equal(verified.code, 0, `push killed after ${pushDelay} ms: ${verified.stdout}${verified.stderr}`);

    const pushed = await kiln('push', ref);
    assert.equal(pushed.code, 0, `the push after a killed one: ${pushed.stderr}`);

    await rm(puller, { recursive: true, force: true });
    const pullDelay = Math.floor(150 + next() * 600);
    if (await killedAfter(puller, ['pull', ref], pullDelay)) killed++;
    const pullerVerified = await runKiln(['--root', puller, 'store', 'verify']);
    assert.equal(pullerVerified.code, 0, `pull killed after ${pullDelay} ms: ${pullerVerified.stdout}${pullerVerified.stderr}`);
    const listed = await runKiln(['--root', puller, 'images', '--format', 'json']);
    // A killed pull names nothing, or the whole image: an image record is written last.
    if (listed.stdout.toString().trim() !== '') {
      const ran = await runKiln(['--root', puller, 'run', '--rm', ref, 'cat', '/kept']);
      assert.equal(ran.stdout.toString(), 'pushed\n', `a pull killed after ${pullDelay} ms left a named image that does not run: ${ran.stderr}`);
    }
    const pulled = await runKiln(['--root', puller, 'pull', ref]);
    assert.equal(pulled.code, 0, `the pull after a killed one: ${pulled.stderr}`);
    const ran = await runKiln(['--root', puller, 'run', '--rm', ref, 'cat', '/kept']);
    assert.equal(ran.stdout.toString(), 'pushed\n', ran.stderr);
  }
  t.diagnostic(`${killed} pushes and pulls killed before they ended`);
  assert.ok(killed > 0, 'the harness killed nothing: it tests nothing');
});
