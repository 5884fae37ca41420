// How `kiln build` behaves, through the real binary over a real store: independent stages run at
// overlapping times, cache hits and misses follow content and build args, secrets reach RUN and
// nothing else, cache mounts persist, failures point at their Dockerfile line, Ctrl-C leaves no
// mount or process, and COPY/ADD lay files out as Docker does. Events come from --progress rawjson.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { randomBytes, createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { kilnBin, repoRoot, runKiln, type CliResult } from '../helpers/kiln-cli.js';
import { mountsUnder } from '../helpers/mountinfo.js';
import { stepEvents, type StepEvent } from '../helpers/solve-status.js';

const run = promisify(execFile);
// A fixed creation time, so equal inputs give equal image digests.
const env = { ...process.env, SOURCE_DATE_EPOCH: '1700000000' };
let dir: string;
let root: string;

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'kiln-behaviour-'));
  root = path.join(dir, 'root');
  const rootfs = path.join(dir, 'rootfs.tar');
  await run('bash', [path.join(repoRoot, 'examples/make-busybox-rootfs.sh'), rootfs]);
  const imported = await runKiln(['import', '--root', root, rootfs, 'kiln.local/busybox']);
  assert.equal(imported.code, 0, imported.stderr);
});

after(async () => {
  assert.deepEqual((await mountsUnder(root)).map((m) => m.mountPoint), [], 'no mount outlives the builds');
  await rm(dir, { recursive: true, force: true });
});

type Built = CliResult & { events: StepEvent[] };

async function build(context: string, ...flags: string[]): Promise<Built> {
  const r = await runKiln(['build', '--progress', 'rawjson', '--root', root, ...flags, context], { env });
  return { ...r, events: stepEvents(r.stderr) };
}

async function mustBuild(context: string, ...flags: string[]): Promise<Built> {
  const r = await build(context, ...flags);
  assert.equal(r.code, 0, r.stderr);
  return r;
}

/** Names of the vertices that ran (or were cached), sorted, base images left out. */
function named(b: Built, type: 'vertex.start' | 'vertex.cached'): string[] {
  return b.events.flatMap((e) => (e.type === type && !e.name.includes('FROM kiln.local/busybox') ? [e.name] : [])).sort();
}

async function context(name: string, files: Record<string, string>): Promise<string> {
  const ctx = path.join(dir, name);
  for (const [file, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(ctx, file)), { recursive: true });
    await writeFile(path.join(ctx, file), text);
  }
  return ctx;
}

async function inImage(image: string, script: string): Promise<string> {
  const r = await runKiln(['run', '--root', root, '--rm', image, 'sh', '-c', script]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.toString();
}

test('two independent stages run at overlapping times', async () => {
  const ctx = await context('parallel', {
    Dockerfile: [
      'FROM kiln.local/busybox AS a',
      'RUN sleep 2 && echo a > /a',
      'FROM kiln.local/busybox AS b',
      'RUN sleep 2 && echo b > /b',
      'FROM kiln.local/busybox',
      'COPY --from=a /a /a',
      'COPY --from=b /b /b',
      '',
    ].join('\n'),
  });
  const b = await mustBuild(ctx);
  const span = (name: string): [number, number] => {
    const start = b.events.find((e) => e.type === 'vertex.start' && e.name === name);
    const done = b.events.find((e) => e.type === 'vertex.done' && e.name === name);
    assert.ok(start && done, `${name} started and finished: ${named(b, 'vertex.start').join(' | ')}`);
    return [start.time, done.time];
  };
  const [aStart, aDone] = span('[a 2/2] RUN sleep 2 && echo a > /a');
  const [bStart, bDone] = span('[b 2/2] RUN sleep 2 && echo b > /b');
  assert.ok(aDone - aStart >= 2000 && bDone - bStart >= 2000, 'each RUN took its two seconds');
  assert.ok(aStart < bDone && bStart < aDone, `the RUNs overlap: a ${aStart}..${aDone}, b ${bStart}..${bDone}`);
});

test('cache: a rebuild is all cached; an edit re-runs exactly its dependants; ignored, unselected files and build args behave', async () => {
  const ctx = await context('cache', {
    Dockerfile: [
      'FROM kiln.local/busybox AS x',
      'COPY a.txt /a.txt',
      'RUN cat /a.txt > /a.copy',
      'ARG V=1',
      'RUN echo "v=$V" > /v',
      'FROM kiln.local/busybox AS y',
      'COPY conf/ /conf/',
      'RUN cat /conf/* > /conf.all',
      'FROM kiln.local/busybox',
      'COPY --from=y /conf.all /out/',
      'COPY --from=x /v /a.copy /out/',
      '',
    ].join('\n'),
    '.dockerignore': 'conf/ignored.txt\n',
    'a.txt': 'a\n',
    'conf/b.txt': 'b\n',
    'conf/ignored.txt': 'ignored\n',
    'unused.txt': 'not copied by any step\n',
  });
  const all = [
    '[internal] load build context',
    '[internal] load build context',
    '[stage-2 2/3] COPY --from=y /conf.all /out/',
    '[stage-2 3/3] COPY --from=x /v /a.copy /out/',
    '[x 2/5] COPY a.txt /a.txt',
    '[x 3/5] RUN cat /a.txt > /a.copy',
    '[x 5/5] RUN echo "v=$V" > /v',
    '[y 2/3] COPY conf/ /conf/',
    '[y 3/3] RUN cat /conf/* > /conf.all',
  ];
  const first = await mustBuild(ctx, '-t', 'cache-test');
  assert.deepEqual(named(first, 'vertex.start'), all);
  assert.equal(await inImage('cache-test', 'cat /out/v /out/conf.all'), 'v=1\nb\n', 'the ignored file was not copied');

  const again = await mustBuild(ctx, '-t', 'cache-test');
  assert.deepEqual(named(again, 'vertex.start'), []);
  assert.deepEqual(named(again, 'vertex.cached'), all);
  assert.equal(again.stdout.toString(), first.stdout.toString());

  await writeFile(path.join(ctx, 'conf/b.txt'), 'b edited\n');
  const edited = await mustBuild(ctx, '-t', 'cache-test');
  assert.deepEqual(named(edited, 'vertex.start'), [
    '[internal] load build context',
    '[stage-2 2/3] COPY --from=y /conf.all /out/',
    '[stage-2 3/3] COPY --from=x /v /a.copy /out/',
    '[y 2/3] COPY conf/ /conf/',
    '[y 3/3] RUN cat /conf/* > /conf.all',
  ]);

  await writeFile(path.join(ctx, 'conf/ignored.txt'), 'ignored, edited\n');
  await writeFile(path.join(ctx, 'unused.txt'), 'edited, still not copied\n');
  const untouched = await mustBuild(ctx, '-t', 'cache-test');
  assert.deepEqual(named(untouched, 'vertex.start'), []);
  assert.equal(untouched.stdout.toString(), edited.stdout.toString());

  const arg = await mustBuild(ctx, '-t', 'cache-test', '--build-arg', 'V=2');
  assert.deepEqual(named(arg, 'vertex.start'), ['[stage-2 3/3] COPY --from=x /v /a.copy /out/', '[x 5/5] RUN echo "v=$V" > /v'], 'steps before the ARG and other stages stay cached');
  assert.equal(await inImage('cache-test', 'cat /out/v'), 'v=2\n', 'RUN saw the ARG in its environment');
});

test('cache: a COPY of a symlink re-runs when the link\'s target is edited, and only then', async () => {
  const ctx = await context('symlink-cache', {
    Dockerfile: 'FROM kiln.local/busybox\nCOPY good /good\nRUN cat /good > /good.copy\n',
    'real.txt': 'one\n',
    'other.txt': 'not copied\n',
  });
  await symlink('real.txt', path.join(ctx, 'good'));
  const steps = ['[2/3] COPY good /good', '[3/3] RUN cat /good > /good.copy', '[internal] load build context'];
  const first = await mustBuild(ctx, '-t', 'symlink-cache');
  assert.deepEqual(named(first, 'vertex.start'), steps);
  assert.equal(await inImage('symlink-cache', 'cat /good.copy; test -L /good || echo regular-file'), 'one\nregular-file\n');

  await writeFile(path.join(ctx, 'other.txt'), 'edited, still not copied\n');
  assert.deepEqual(named(await mustBuild(ctx, '-t', 'symlink-cache'), 'vertex.start'), []);

  await writeFile(path.join(ctx, 'real.txt'), 'two\n');
  assert.deepEqual(named(await mustBuild(ctx, '-t', 'symlink-cache'), 'vertex.start'), steps);
  assert.equal(await inImage('symlink-cache', 'cat /good.copy'), 'two\n');
});

test('without SOURCE_DATE_EPOCH, a fully cached rebuild gives the same image and an edit a later one', async () => {
  const ctx = await context('times', {
    Dockerfile: 'FROM kiln.local/busybox\nENV A=1\nCOPY a.txt /a.txt\nCMD ["cat", "/a.txt"]\n',
    'a.txt': 'one\n',
  });
  const { SOURCE_DATE_EPOCH: _, ...noEpoch } = env;
  const buildNow = async () => {
    const r = await runKiln(['build', '--progress', 'plain', '--root', root, '-t', 'times-test', ctx], { env: noEpoch });
    assert.equal(r.code, 0, r.stderr);
    const inspected = JSON.parse((await runKiln(['inspect', '--root', root, 'times-test'])).stdout.toString()) as { Config: { created: string; history: { created: string; created_by?: string }[] } };
    const config = inspected.Config;
    return { digest: r.stdout.toString().trim(), config };
  };
  const first = await buildNow();
  await new Promise((r) => setTimeout(r, 20));
  const again = await buildNow();
  assert.equal(again.digest, first.digest, 'nothing re-ran, so nothing in the image changed');

  await writeFile(path.join(ctx, 'a.txt'), 'two\n');
  const edited = await buildNow();
  assert.notEqual(edited.digest, first.digest);
  const copy = edited.config.history.find((h) => h.created_by?.includes('COPY a.txt'))!;
  const envStep = edited.config.history.find((h) => h.created_by?.includes('ENV A=1'))!;
  assert.ok(copy.created > first.config.created, `the re-run COPY is newer (${copy.created} vs ${first.config.created})`);
  assert.equal(envStep.created, copy.created, 'a metadata step takes the first new layer\'s time');
  assert.equal(edited.config.created, copy.created, "the image's time is its last entry's");
});

/** Every regular file under `dir`, gzip and zstd blobs decompressed. */
async function* filesUnder(d: string): AsyncGenerator<{ file: string; bytes: Buffer }> {
  for (const entry of await readdir(d, { withFileTypes: true })) {
    const p = path.join(d, entry.name);
    if (entry.isDirectory()) yield* filesUnder(p);
    else if (entry.isFile()) {
      const raw = await readFile(p);
      yield { file: p, bytes: raw };
      if (raw[0] === 0x1f && raw[1] === 0x8b) yield { file: `${p} (gunzipped)`, bytes: gunzipSync(raw) };
      if (raw.length >= 4 && raw.readUInt32LE(0) === 0xfd2fb528) {
        const { stdout } = await run('zstd', ['-dc', p], { encoding: 'buffer', maxBuffer: 1 << 30 });
        yield { file: `${p} (unzstd)`, bytes: stdout };
      }
    }
  }
}

test('a secret reaches RUN and appears in no layer, no cache file and no progress event', async () => {
  const secret = `kiln-secret-${randomBytes(16).toString('hex')}`;
  const secretFile = path.join(dir, 'token');
  await writeFile(secretFile, secret);
  const ctx = await context('secret', {
    Dockerfile: 'FROM kiln.local/busybox\nRUN --mount=type=secret,id=tok sha256sum /run/secrets/tok | cut -d" " -f1 > /seen && echo checked\n',
  });
  const b = await mustBuild(ctx, '-t', 'secret-test', '--secret', `id=tok,src=${secretFile}`);
  const sha = createHash('sha256').update(secret).digest('hex');
  assert.equal(await inImage('secret-test', 'cat /seen; ls -A /run/secrets 2>/dev/null | wc -l'), `${sha}\n0\n`);

  assert.ok(!b.stderr.includes(secret), 'the progress stream does not carry the secret');
  const needle = Buffer.from(secret);
  let blobs = 0;
  for (const sub of ['blobs', 'cache', 'snapshots']) {
    for await (const { file, bytes } of filesUnder(path.join(root, sub))) {
      if (sub === 'blobs') blobs++;
      assert.equal(bytes.indexOf(needle), -1, `${file} holds the secret`);
    }
  }
  assert.ok(blobs > 0, 'the layer blobs were searched');
});

test('a build that fails while it uses secrets (file and env) leaves them in no output, metadata file or store file', async () => {
  const fileSecret = `kiln-file-secret-${randomBytes(16).toString('hex')}`;
  const envSecret = `kiln-env-secret-${randomBytes(16).toString('hex')}`;
  const secretFile = path.join(dir, 'token2');
  await writeFile(secretFile, fileSecret);
  const ctx = await context('secret-fail', {
    Dockerfile: 'FROM kiln.local/busybox\nRUN --mount=type=secret,id=tok --mount=type=secret,id=api,env=API_TOKEN test -s /run/secrets/tok && test -n "$API_TOKEN" && echo using them && exit 3\n',
  });
  const metadata = path.join(dir, 'secret-metadata.json');
  const failed = await runKiln(['build', '--progress', 'rawjson', '--root', root, '--metadata-file', metadata, '--secret', `id=tok,src=${secretFile}`, '--secret', 'id=api,env=KILN_TEST_API', ctx], {
    env: { ...env, KILN_TEST_API: envSecret },
  });
  assert.equal(failed.code, 1, failed.stderr);
  assert.match(failed.stderr, /using them/, 'the step ran with both secrets and its output is shown');
  for (const secret of [fileSecret, envSecret]) {
    assert.ok(!failed.stderr.includes(secret) && !failed.stdout.includes(secret), 'no output carries the secret');
    const needle = Buffer.from(secret);
    for await (const { file, bytes } of filesUnder(root)) assert.equal(bytes.indexOf(needle), -1, `${file} holds the secret`);
    const meta = await readFile(metadata).catch(() => Buffer.alloc(0));
    assert.equal(meta.indexOf(needle), -1, 'the metadata file holds the secret');
  }
});

test('a cache mount persists across builds, even with --no-cache', async () => {
  const ctx = await context('cachemount', {
    Dockerfile: "FROM kiln.local/busybox\nRUN --mount=type=cache,target=/c sh -c 'echo x >> /c/count; wc -l < /c/count > /n'\n",
  });
  await mustBuild(ctx, '--no-cache', '-t', 'cm-test');
  assert.equal((await inImage('cm-test', 'cat /n')).trim(), '1');
  await mustBuild(ctx, '--no-cache', '-t', 'cm-test');
  assert.equal((await inImage('cm-test', 'cat /n')).trim(), '2');
  assert.equal((await inImage('cm-test', 'ls -A /c | wc -l')).trim(), '0', 'the cache is not in the image');
});

test('a failing RUN prints its output tail and Dockerfile lines in one block; finished steps stay cached', async () => {
  const lines = Array.from({ length: 15 }, (_, i) => `out-${i + 1}`);
  const ctx = await context('failing', {
    Dockerfile: [
      'FROM kiln.local/busybox',
      '# before the failure',
      'RUN echo before > /before',
      'ENV A=1',
      'WORKDIR /w',
      `RUN for l in ${lines.join(' ')}; do echo $l; done; exit 3`,
      'CMD ["sh"]',
      '',
    ].join('\n'),
  });
  const failed = await build(ctx);
  assert.equal(failed.code, 1, failed.stderr);
  const block = failed.stderr.slice(failed.stderr.indexOf('------\n'));
  const step = `[5/6] RUN for l in ${lines.join(' ')}; do echo $l; done; exit 3`;
  const expected = [
    '------',
    ` > ${step}:`,
    ...lines.slice(-10),
    '------',
    'Dockerfile:6',
    '--------------------',
    '   4 |     ENV A=1',
    '   5 |     WORKDIR /w',
    `   6 | >>> RUN for l in ${lines.join(' ')}; do echo $l; done; exit 3`,
    '   7 |     CMD ["sh"]',
    '--------------------',
    `error: ${step} (Dockerfile:6): process "/bin/sh -c for l in ${lines.join(' ')}; do echo \$l; done; exit 3" did not complete successfully: exit code: 3`,
    '',
  ];
  assert.equal(block, expected.join('\n'));
  assert.doesNotMatch(failed.stderr, /\n\s+at |internal error/, 'no stack trace');

  await writeFile(path.join(ctx, 'Dockerfile'), 'FROM kiln.local/busybox\n# before the failure\nRUN echo before > /before\nENV A=1\nWORKDIR /w\nRUN true\n');
  const fixed = await mustBuild(ctx);
  assert.deepEqual(named(fixed, 'vertex.cached'), ['[2/5] RUN echo before > /before', '[4/5] WORKDIR /w']);
  assert.deepEqual(named(fixed, 'vertex.start'), ['[5/5] RUN true']);
});

test('a COPY of a missing file names the file and its Dockerfile line', async () => {
  const ctx = await context('missing', { Dockerfile: 'FROM kiln.local/busybox\nCOPY here.txt /\nCOPY nothere.txt /x\n', 'here.txt': 'here\n' });
  const failed = await build(ctx);
  assert.equal(failed.code, 1, failed.stderr);
  assert.match(failed.stderr, /\nDockerfile:3\n-+\n   1 \|     FROM kiln\.local\/busybox\n   2 \|     COPY here\.txt \/\n   3 \| >>> COPY nothere\.txt \/x\n-+\n/);
  assert.match(failed.stderr, /\nerror: \[3\/3\] COPY nothere\.txt \/x \(Dockerfile:3\): .*nothere\.txt.*not found/);
});

test('a COPY of a file onto a directory of the image is one user line, as BuildKit refuses it', async () => {
  const ctx = await context('onto-dir', { Dockerfile: 'FROM kiln.local/busybox\nRUN mkdir -p /dst/x && touch /dst/x/keep\nCOPY d /dst\n', 'd/x': 'a file\n' });
  const failed = await build(ctx);
  assert.equal(failed.code, 1, failed.stderr);
  assert.match(failed.stderr, /\nerror: \[3\/3\] COPY d \/dst \(Dockerfile:3\): cannot overwrite directory \/dst\/x with a non-directory\n$/);
  assert.doesNotMatch(failed.stderr, /\n\s+at |internal error/, 'no stack trace');
});

/** Pids of `pid` and everything under it, with their command names. */
async function processTree(pid: number): Promise<Map<number, string>> {
  const parents = new Map<number, number>();
  const names = new Map<number, string>();
  for (const e of await readdir('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const stat = await readFile(`/proc/${e}/stat`, 'utf8').catch(() => '');
    // comm sits in parentheses and may hold spaces; the fields after it are space-separated.
    const close = stat.lastIndexOf(')');
    if (close < 0) continue;
    names.set(Number(e), stat.slice(stat.indexOf('(') + 1, close));
    parents.set(Number(e), Number(stat.slice(close + 2).split(' ')[1]));
  }
  const tree = new Map<number, string>();
  const visit = (p: number): void => {
    tree.set(p, names.get(p) ?? '?');
    for (const [child, parent] of parents) if (parent === p && !tree.has(child)) visit(child);
  };
  visit(pid);
  return tree;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('Ctrl-C during a RUN exits promptly and leaves no mount and no process behind', async () => {
  const ctx = await context('interrupt', { Dockerfile: 'FROM kiln.local/busybox\nRUN echo started && sleep 30\n' });
  const child = spawn(process.execPath, [kilnBin, 'build', '--progress', 'rawjson', '--root', root, ctx], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the RUN never started:\n${stderr}`)), 30_000);
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
      // Once the step printed, its container (and kiln-ns) is surely up.
      if (stepEvents(stderr.slice(0, stderr.lastIndexOf('\n') + 1)).some((e) => e.type === 'vertex.log' && e.data?.includes('started'))) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  const tree = await processTree(child.pid!);
  assert.ok([...tree.values()].includes('kiln-ns'), `kiln-ns runs under kiln: ${[...tree.values()].join(' ')}`);
  assert.ok([...tree.values()].includes('sleep'), 'the RUN runs');
  const t0 = Date.now();
  child.kill('SIGINT');
  const { code, signal } = await exited;
  const took = Date.now() - t0;
  assert.ok(code !== 0 || signal !== null, `kiln exits non-zero after Ctrl-C (code ${code}, signal ${signal})`);
  assert.ok(took < 10_000, `kiln exited ${took} ms after Ctrl-C, not after the 30 s sleep`);
  assert.match(stderr, /cancel/i, 'it says the build was cancelled');
  assert.deepEqual([...tree].filter(([pid]) => alive(pid)), [], 'kiln-ns, the container and sleep are gone');
  assert.deepEqual((await mountsUnder(root)).map((m) => m.mountPoint), []);
});

test('COPY and ADD lay files out as Docker does', async () => {
  const ctx = await context('copy-semantics', {
    Dockerfile: [
      'FROM kiln.local/busybox',
      "RUN echo 'app:x:1234:2345::/home/app:/bin/sh' >> /etc/passwd && echo 'crew:x:2345:' >> /etc/group",
      'COPY dir /contents/',
      'COPY a.txt /slash/',
      'COPY a.txt /noslash',
      'COPY *.md /md/',
      'COPY a.txt b.txt /multi/',
      'COPY a.txt /deep/er/path/a.txt',
      'COPY --chown=app:crew a.txt /owned',
      'COPY --chmod=741 a.txt /mode',
      'ADD archive.tar.gz /unpacked/',
      'COPY . /all/',
      'COPY ./dir/../dir /dotdir',
      '',
    ].join('\n'),
    'dir/f1': 'f1\n',
    'dir/sub/f2': 'f2\n',
    'a.txt': 'a\n',
    'b.txt': 'b\n',
    'x.md': 'x\n',
    'y.md': 'y\n',
  });
  const archiveSrc = path.join(dir, 'archive-src');
  await mkdir(path.join(archiveSrc, 'inner'), { recursive: true });
  await writeFile(path.join(archiveSrc, 'inner/packed.txt'), 'packed\n');
  await run('tar', ['-czf', path.join(ctx, 'archive.tar.gz'), '-C', archiveSrc, 'inner']);
  await mustBuild(ctx, '-t', 'copy-test');
  const out = await inImage(
    'copy-test',
    [
      'cd /contents && find . | sort | tr "\\n" " "; echo',
      'ls /slash; test -f /noslash && echo noslash-is-file',
      'ls /md | tr "\\n" " "; echo',
      'ls /multi | tr "\\n" " "; echo',
      'cat /deep/er/path/a.txt',
      'stat -c "%u:%g %U:%G" /owned',
      'stat -c %a /mode',
      'cat /unpacked/inner/packed.txt; test -e /unpacked/archive.tar.gz || echo no-archive-file',
      'cd /all && find . | sort | tr "\\n" " "; echo',
      'cd /dotdir && find . | sort | tr "\\n" " "; echo',
    ].join('; '),
  );
  assert.equal(
    out,
    [
      '. ./f1 ./sub ./sub/f2 ',
      'a.txt',
      'noslash-is-file',
      'x.md y.md ',
      'a.txt b.txt ',
      'a',
      '1234:2345 app:crew',
      '741',
      'packed',
      'no-archive-file',
      '. ./Dockerfile ./a.txt ./archive.tar.gz ./b.txt ./dir ./dir/f1 ./dir/sub ./dir/sub/f2 ./x.md ./y.md ',
      '. ./f1 ./sub ./sub/f2 ',
      '',
    ].join('\n'),
  );
});

test('kiln prune forgets the build cache records whose snapshots it removed; the next build re-runs them', async () => {
  const ctx = await context('prune', {
    Dockerfile: 'FROM kiln.local/busybox AS work\nCOPY in.txt /in.txt\nRUN cp /in.txt /out.txt\nFROM kiln.local/busybox\nCOPY --from=work /out.txt /\n',
    'in.txt': 'pruned\n',
  });
  await mustBuild(ctx, '-t', 'prune-test');
  const indexFile = path.join(root, 'cache', 'index.json');
  const keys = async () => Object.keys((JSON.parse(await readFile(indexFile, 'utf8')) as { entries: object }).entries);
  const before = await keys();
  const pruned = await runKiln(['prune', '--root', root]);
  assert.equal(pruned.code, 0, pruned.stderr);
  const forgotten = Number(/, (\d+) build cache records;/.exec(pruned.stdout.toString())?.[1]);
  assert.ok(forgotten > 0, pruned.stdout.toString());
  assert.equal((await keys()).length, before.length - forgotten);
  const again = await mustBuild(ctx, '-t', 'prune-test');
  assert.ok(named(again, 'vertex.start').includes('[work 3/3] RUN cp /in.txt /out.txt'), 'the stage whose snapshots were pruned ran again');
  assert.equal(await inImage('prune-test', 'cat /out.txt'), 'pruned\n');
});

test('a failing 1 MB RUN line is quoted cut to a readable length, saying how much was left out', async () => {
  const ctx = await context('huge-line', { Dockerfile: `FROM kiln.local/busybox\nRUN echo ${'x'.repeat(1 << 20)}\n` });
  const b = await build(ctx, '--progress', 'plain');
  assert.equal(b.code, 1);
  assert.ok(b.stderr.length < 10_000, `stderr is ${b.stderr.length} bytes`);
  assert.match(b.stderr, /argument list too long/);
  assert.match(b.stderr, /xxx… \(\d+ more characters\) \(Dockerfile:2\): process "\/bin\/sh -c echo x+… \(\d+ more characters\)" did not complete successfully/);
});
