// Property test (fast-check) of layer apply against hostile archives: random entries whose names
// climb (`..`, absolute paths), run through symlinks the target already holds or the archive just
// made (to `..`, `/`, outside), and hard links pointing out. Whatever the archive, apply either
// refuses it or writes inside the target only: the tree beside the target, the sandbox around it
// and the host's own `/` and `/etc` are left exactly as they were.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createWriteStream, existsSync } from 'node:fs';
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import fc from 'fast-check';
import tar from 'tar-stream';
import { native } from '../../native/binding.js';

const NAMES = ['kzq1', 'kzq2', '..', '.', 'up', 'root', 'made'];
const LINK_TARGETS = ['..', '../..', '../outside', '/', '/etc', 'up/outside', 'root/etc', 'made', 'kzq1', '../../..'];
const HARDLINK_TARGETS = ['../outside/sentinel', '/etc/hostname', 'up/sentinel', 'root/etc/hostname', 'kzq1', '../../outside/sentinel'];

type Entry = { type: 'file' | 'directory' | 'symlink' | 'link'; name: string; linkname?: string };

const name = fc.tuple(fc.boolean(), fc.array(fc.constantFrom(...NAMES), { minLength: 1, maxLength: 4 })).map(([abs, parts]) => (abs ? '/' : '') + parts.join('/'));
const entry: fc.Arbitrary<Entry> = fc.oneof(
  name.map((n): Entry => ({ type: 'file', name: n })),
  name.map((n): Entry => ({ type: 'directory', name: n })),
  fc.tuple(name, fc.constantFrom(...LINK_TARGETS)).map(([n, l]): Entry => ({ type: 'symlink', name: n, linkname: l })),
  fc.tuple(name, fc.constantFrom(...HARDLINK_TARGETS)).map(([n, l]): Entry => ({ type: 'link', name: n, linkname: l })),
);

async function writeTar(file: string, entries: Entry[]): Promise<void> {
  const pack = tar.pack();
  const done = pipeline(pack, createWriteStream(file));
  for (const e of entries) {
    const header = { name: e.name, type: e.type, mode: e.type === 'directory' ? 0o755 : 0o644, ...(e.linkname !== undefined ? { linkname: e.linkname } : {}) };
    await new Promise<void>((resolve, reject) => {
      const done = (err?: Error | null) => (err ? reject(err) : resolve());
      if (e.type === 'file') pack.entry(header, 'hostile\n', done);
      else pack.entry(header, done);
    });
  }
  pack.finalize();
  await done;
}

/** Every path under `dir` with its type, size and mode: what must not change. */
async function snapshot(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const n of (await readdir(d)).sort()) {
      const p = path.join(d, n);
      const s = await lstat(p);
      out.push(`${path.relative(dir, p)} ${s.mode.toString(8)} ${s.size}`);
      if (s.isDirectory()) await walk(p);
    }
  };
  await walk(dir);
  return out;
}

const hostPaths = () => NAMES.filter((n) => n.startsWith('kzq') || n === 'made').flatMap((n) => [`/${n}`, `/etc/${n}`]);

test('layer apply of random hostile archives never writes outside the target', async (t) => {
  const box = await mkdtemp(path.join(tmpdir(), 'kiln-hostile-'));
  t.after(() => rm(box, { recursive: true, force: true }));
  assert.deepEqual(hostPaths().filter((p) => existsSync(p)), [], 'the probe names must not exist on the host before');
  const etcBefore = (await readdir('/etc')).sort();
  let refused = 0;
  let applied = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(entry, { minLength: 1, maxLength: 8 }), fc.constantFrom('copy' as const, 'overlay' as const), async (entries, driver) => {
      const sandbox = await mkdtemp(path.join(box, 'case-'));
      const target = path.join(sandbox, 'target');
      const outside = path.join(sandbox, 'outside');
      await mkdir(target);
      await mkdir(outside);
      await writeFile(path.join(outside, 'sentinel'), 'keep\n');
      // A lower tree may hold links out already: the apply must not write through them.
      await symlink('../outside', path.join(target, 'up'));
      await symlink('/', path.join(target, 'root'));
      const layer = path.join(sandbox, 'layer.tar');
      await writeTar(layer, entries);
      const before = await snapshot(outside);
      try {
        await native.applyLayer({ layer, target, driver });
        applied++;
      } catch (err) {
        assert.ok(err instanceof Error, String(err));
        refused++;
      }
      assert.deepEqual(await snapshot(outside), before, `outside changed by ${JSON.stringify(entries)}`);
      assert.equal(await readFile(path.join(outside, 'sentinel'), 'utf8'), 'keep\n');
      assert.deepEqual((await readdir(sandbox)).sort(), ['layer.tar', 'outside', 'target'], `the sandbox changed by ${JSON.stringify(entries)}`);
      assert.deepEqual(hostPaths().filter((p) => existsSync(p)), [], `the host changed by ${JSON.stringify(entries)}`);
      await rm(sandbox, { recursive: true, force: true });
    }),
    { numRuns: 300 },
  );
  assert.deepEqual((await readdir('/etc')).sort(), etcBefore);
  t.diagnostic(`300 archives: ${applied} applied inside the target, ${refused} refused`);
  assert.ok(applied > 0 && refused > 0, 'both outcomes were exercised');
});
