// The crash harness, short run (bench/crash.sh runs the long one): builds of a two-stage context
// that writes files and exports layers are killed with SIGKILL (kiln, its helpers and the step's
// processes) at random moments; after each kill `kiln store verify` must find the store clean once
// kiln's start-up recovery ran, no mount or process may be left, and afterwards a rebuild works
// and the image built before the crashes still runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { importBusybox, kilnBin, runKiln } from '../helpers/kiln-cli.js';
import { mountsUnder } from '../helpers/mountinfo.js';

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
  const dir = await mkdtemp(path.join(tmpdir(), 'kiln-crash-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const root = path.join(dir, 'root');
  await importBusybox(dir, root);
  const kiln = (...args: string[]) => runKiln(['--root', root, ...args]);

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
    const child = spawn(process.execPath, [kilnBin, '--root', root, 'build', '-q', '--no-cache', '-t', `crash:${i}`, '--build-arg', `I=${i}`, ctx], { detached: true, stdio: 'ignore' });
    const ended = new Promise<NodeJS.Signals | null>((resolve) => child.on('close', (_code, signal) => resolve(signal)));
    // From kiln's start-up to its export: a build here takes 1-2 s.
    const delay = Math.floor(100 + next() * 2000);
    killedAt.push(delay);
    await new Promise((resolve) => setTimeout(resolve, delay));
    // The whole group: kiln, kiln-ns and what the step runs, as a power cut would take them.
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // It finished first: a build that ran to the end must verify clean too.
    }
    if ((await ended) === 'SIGKILL') killed++;
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
