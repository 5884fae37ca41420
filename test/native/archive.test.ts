// ADD's archive extraction in the native layer engine, on real archives compressed by the real
// tools: Docker's untar rules (`..` clamped, `.wh.` names kept, symlinked parents resolved inside
// the destination), the owner and mtime ADD imposes, and what is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { lstat, mkdir, readFile, readlink, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import tar from 'tar-stream';
import { native } from '../../native/binding.js';
import { LAYER_ENTRY } from '../../native/native-error.js';
import { withTmpDir } from '../helpers/tmp-dir.js';

const withTmp = (fn: (dir: string) => Promise<void>): Promise<void> => withTmpDir('kiln-archive-', fn);

type Entry = { name: string; type?: tar.Header['type']; linkname?: string; body?: string };

async function tarOf(entries: Entry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const c of pack) chunks.push(c as Buffer);
  })();
  for (const { body, ...h } of entries) pack.entry({ mode: 0o644, uid: 7, gid: 8, mtime: new Date(1_500_000_000_000), ...h }, body ?? '');
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

const SAMPLE: Entry[] = [
  { name: 'pkg/', type: 'directory' },
  { name: 'pkg/bin', body: 'binary' },
  { name: 'pkg/.wh.kept', body: 'not a whiteout' },
  { name: '../../up', body: 'clamped' },
  { name: 'alias', type: 'symlink', linkname: '/pkg' },
  { name: 'alias/through', body: 'through' },
  { name: 'pkg/hard', type: 'link', linkname: 'pkg/bin' },
  { name: 'fifo', type: 'fifo' },
];

test('every compression ADD knows is extracted by Docker’s untar rules', async () => {
  await withTmp(async (dir) => {
    const plain = path.join(dir, 'a.tar');
    await writeFile(plain, await tarOf(SAMPLE));
    const files: Record<string, string> = { none: plain };
    for (const [tool, ext, name] of [['gzip', 'gz', 'gzip'], ['bzip2', 'bz2', 'bzip2'], ['xz', 'xz', 'xz'], ['zstd', 'zst', 'zstd']] as const) {
      execFileSync(tool, ['-k', '-q', plain]);
      files[name] = `${plain}.${ext}`;
    }
    for (const [compression, file] of Object.entries(files)) {
      assert.equal(await native.archiveCompression(file), compression, file);
      const dest = path.join(dir, `dest-${compression}`);
      await mkdir(dest);
      const applied = await native.extractArchive({ archive: file, target: dest });
      assert.equal(applied.entries, SAMPLE.length, compression);
      assert.equal(await readFile(path.join(dest, 'pkg/bin'), 'utf8'), 'binary');
      assert.equal(await readFile(path.join(dest, 'pkg/.wh.kept'), 'utf8'), 'not a whiteout', 'a .wh. name is an ordinary file');
      assert.equal(await readFile(path.join(dest, 'up'), 'utf8'), 'clamped', '`../../up` lands inside');
      assert.equal(await readlink(path.join(dest, 'alias')), '/pkg');
      assert.equal(await readFile(path.join(dest, 'pkg/through'), 'utf8'), 'through', 'written through the link, inside the destination');
      assert.equal((await lstat(path.join(dest, 'pkg/hard'))).ino, (await lstat(path.join(dest, 'pkg/bin'))).ino);
      await assert.rejects(lstat(path.join(dest, 'fifo')), { code: 'ENOENT' }, 'fifos are skipped');
      const st = await lstat(path.join(dest, 'pkg/bin'));
      assert.deepEqual([st.uid, st.gid, st.mtimeMs], [7, 8, 1_500_000_000_000]);
      assert.equal((await lstat(path.join(dest, 'pkg'))).mtimeMs, 1_500_000_000_000, 'directory times are set last');
    }
  });
});

test('ADD --chown and a fixed timestamp replace every entry’s owner and mtime', async () => {
  await withTmp(async (dir) => {
    const file = path.join(dir, 'a.tar');
    await writeFile(file, await tarOf(SAMPLE));
    await mkdir(path.join(dir, 'dest'));
    await native.extractArchive({ archive: file, target: path.join(dir, 'dest'), owner: { uid: 1000, gid: 1001 }, mtime: 1_000_000_000 });
    for (const p of ['pkg', 'pkg/bin', 'alias', 'up']) {
      const st = await lstat(path.join(dir, 'dest', p));
      assert.deepEqual([st.uid, st.gid, st.mtimeMs], [1000, 1001, 1_000_000_000_000], p);
    }
  });
});

test('an entry written through a symlink to nothing inside the destination is refused, naming it', async () => {
  await withTmp(async (dir) => {
    const file = path.join(dir, 'evil.tar');
    await writeFile(file, await tarOf([{ name: 'lnk', type: 'symlink', linkname: '/etc' }, { name: 'lnk/pwned', body: 'x' }]));
    const dest = path.join(dir, 'dest');
    await mkdir(dest);
    await assert.rejects(native.extractArchive({ archive: file, target: dest }), { code: LAYER_ENTRY, entry: 'lnk/pwned' });
    await assert.rejects(lstat(path.join(dest, 'etc')), { code: 'ENOENT' }, 'nothing is made where the link points');
  });
});

test('a symlink leaving the destination resolves inside it, never on the host', async () => {
  await withTmp(async (dir) => {
    const outside = path.join(dir, 'outside');
    await mkdir(outside);
    const dest = path.join(dir, 'dest');
    await mkdir(path.join(dest, 'outside'), { recursive: true });
    await symlink('../../../../../outside', path.join(dest, 'up'));
    const file = path.join(dir, 'a.tar');
    await writeFile(file, await tarOf([{ name: 'up/x', body: 'inside' }]));
    await native.extractArchive({ archive: file, target: dest });
    assert.equal(await readFile(path.join(dest, 'outside/x'), 'utf8'), 'inside');
    await assert.rejects(lstat(path.join(outside, 'x')), { code: 'ENOENT' });
  });
});

test('archiveCompression says null for what is not a tar, compressed or not', async () => {
  await withTmp(async (dir) => {
    const text = path.join(dir, 'notes.txt');
    await writeFile(text, 'plain text '.repeat(100));
    execFileSync('gzip', ['-k', text]);
    execFileSync('xz', ['-k', text]);
    await writeFile(path.join(dir, 'short'), 'ab');
    for (const f of [text, `${text}.gz`, `${text}.xz`, path.join(dir, 'short')]) assert.equal(await native.archiveCompression(f), null, f);
  });
});

test('an archive or layer that expands past the free space is refused before it fills the disk', () =>
  withTmp(async (dir) => {
    // A store's filesystem of 32 MiB, and 256 MiB of zeros packed into a few KB of zstd.
    const small = path.join(dir, 'small');
    await mkdir(small);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=32m', 'tmpfs', small]);
    try {
      const src = path.join(dir, 'src');
      await mkdir(src);
      execFileSync('truncate', ['-s', '256M', path.join(src, 'zeros')]);
      await writeFile(path.join(src, 'small'), Buffer.alloc(1 << 20, 1));
      const bomb = path.join(dir, 'bomb.tar.zst');
      execFileSync('sh', ['-c', `tar -C ${src} -cf - zeros | zstd -q -3 -o ${bomb}`]);
      const fine = path.join(dir, 'fine.tar.zst');
      execFileSync('sh', ['-c', `tar -C ${src} -cf - small | zstd -q -3 -o ${fine}`]);
      const free = () => Number(execFileSync('stat', ['-f', '-c', '%a', small], { encoding: 'utf8' })) * 4096;
      const before = free();
      for (const [what, call] of [
        ['extractArchive', (target: string) => native.extractArchive({ archive: bomb, target })],
        ['applyLayer', (target: string) => native.applyLayer({ layer: bomb, target, driver: 'copy' })],
      ] as const) {
        const target = path.join(small, what);
        await mkdir(target);
        await assert.rejects(call(target), (err: Error & { code?: string; entry?: string }) => {
          assert.equal(err.code, 'ENOSPC', `${what}: ${err.message}`);
          assert.equal(err.entry, 'zeros');
          assert.match(err.message, /expands past the free space .*decompression bomb/);
          return true;
        });
        assert.ok(free() >= before - (1 << 20), `${what} wrote into the disk: ${before - free()} bytes gone`);
      }
      // What fits is extracted as before.
      await native.extractArchive({ archive: fine, target: path.join(small, 'extractArchive') });
      assert.equal((await lstat(path.join(small, 'extractArchive', 'small'))).size, 1 << 20);
    } finally {
      execFileSync('umount', [small]);
    }
  }));
