// Build contexts nobody reviewed, through the real CLI: special files (carried as BuildKit
// carries them: fifos and devices as they are, a socket as an empty file with its mode),
// symlinks that point outside (kept as links, never followed out), a 1 000-deep tree and a
// 100 000-entry directory (nothing lost, nothing recursive that overflows).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { lstat, mkdir, readdir, readFile, readlink, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { importBusybox, runKiln } from '../helpers/kiln-cli.js';
import { withTmpDir } from '../helpers/tmp-dir.js';

const withTmp = (fn: (dir: string) => Promise<void>) => withTmpDir('kiln-hostile-ctx-', fn);

async function buildLocal(dir: string, root: string, ctx: string, dockerfile: string): Promise<string> {
  const df = path.join(dir, 'Dockerfile');
  await writeFile(df, dockerfile);
  const out = path.join(dir, 'out');
  const r = await runKiln(['build', '--root', root, '-f', df, '-o', `type=local,dest=${out}`, ctx]);
  assert.equal(r.code, 0, r.stderr);
  return out;
}

test('fifos and devices are carried as they are, a socket becomes an empty file with its mode', () =>
  withTmp(async (dir) => {
    const root = path.join(dir, 'root');
    await importBusybox(dir, root);
    const ctx = path.join(dir, 'ctx');
    await mkdir(ctx);
    await writeFile(path.join(ctx, 'f'), 'data\n');
    execFileSync('mkfifo', ['-m', '640', path.join(ctx, 'fifo')]);
    execFileSync('mknod', ['-m', '600', path.join(ctx, 'null2'), 'c', '1', '3']);
    execFileSync('python3', ['-c', 'import os,socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1]); os.chmod(sys.argv[1], 0o751)', path.join(ctx, 'sock')]);
    const out = await buildLocal(
      dir, root, ctx,
      'FROM kiln.local/busybox AS a\n' +
        'RUN mkdir /s && mkfifo -m 604 /s/fifo && mknod -m 620 /s/nul c 1 3\n' +
        'FROM scratch\nCOPY . /c\nCOPY --from=a /s /s\nCOPY --from=a /s/fifo /one-fifo\n',
    );
    const kind = async (p: string) => {
      const st = await lstat(path.join(out, p));
      const type = st.isFIFO() ? 'fifo' : st.isCharacterDevice() ? `char ${st.rdev >> 8}:${st.rdev & 0xff}` : st.isFile() ? `file ${st.size}` : st.isSocket() ? 'socket' : 'other';
      return `${type} ${(st.mode & 0o7777).toString(8)}`;
    };
    // What BuildKit v0.34.2's COPY of the same context and stage gives (ls -la in its RUN).
    assert.equal(await kind('c/fifo'), 'fifo 640');
    assert.equal(await kind('c/null2'), 'char 1:3 600');
    assert.equal(await kind('c/sock'), 'file 0 751');
    assert.equal(await kind('c/f'), 'file 5 644');
    assert.equal(await kind('s/fifo'), 'fifo 604');
    assert.equal(await kind('s/nul'), 'char 1:3 620');
    assert.equal(await kind('one-fifo'), 'fifo 604');
  }));

test('symlinks to outside the context stay links; a COPY through one finds nothing outside', () =>
  withTmp(async (dir) => {
    const root = path.join(dir, 'root');
    await importBusybox(dir, root);
    const secret = path.join(dir, 'outside-secret');
    await writeFile(secret, 'host secret\n');
    const ctx = path.join(dir, 'ctx');
    await mkdir(ctx);
    await symlink(secret, path.join(ctx, 'abs-link'));
    await symlink('../outside-secret', path.join(ctx, 'rel-link'));
    const out = await buildLocal(dir, root, ctx, 'FROM scratch\nCOPY . /c\n');
    assert.equal(await readlink(path.join(out, 'c/abs-link')), secret);
    assert.equal(await readlink(path.join(out, 'c/rel-link')), '../outside-secret');
    await assert.rejects(lstat(path.join(out, 'outside-secret')), { code: 'ENOENT' });

    const df = path.join(dir, 'Dockerfile.through');
    await writeFile(df, 'FROM scratch\nCOPY rel-link /x\n');
    const r = await runKiln(['build', '--root', root, '-f', df, '-o', `type=local,dest=${path.join(dir, 'out2')}`, ctx]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /COPY rel-link \/x \(.*Dockerfile\.through:2\): \/rel-link: not found/);
    assert.ok(!r.stderr.includes('host secret') && !r.stderr.includes('    at '), r.stderr);
  }));

test('a 1 000-deep tree and a 100 000-entry directory arrive whole', { timeout: 300_000 }, () =>
  withTmp(async (dir) => {
    const root = path.join(dir, 'root');
    await importBusybox(dir, root);
    const ctx = path.join(dir, 'ctx');
    // Made by python: one process instead of 100 000 awaited writes.
    execFileSync('python3', ['-c', [
      'import os, sys',
      'os.makedirs(sys.argv[1]); os.chdir(sys.argv[1]); base = os.getcwd()',
      'for _ in range(1000): os.mkdir("d"); os.chdir("d")',
      'open("leaf", "w").write("deep\\n"); os.chdir(base); os.mkdir("wide")',
      'for i in range(100000): open(f"wide/f{i}", "w").close()',
    ].join('\n'), ctx]);
    const out = await buildLocal(dir, root, ctx, 'FROM scratch\nCOPY . /c\n');
    assert.equal((await readdir(path.join(out, 'c/wide'))).length, 100_000);
    assert.equal(await readFile(path.join(out, 'c', ...Array<string>(1000).fill('d'), 'leaf'), 'utf8'), 'deep\n');
  }));
