// The local source over a real context dir: include/exclude selection, a content key that follows
// content and not mtimes, the metadata cache, and a snapshot holding exactly the selected files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstat, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Op } from '../../../solver/llb/types.js';
import { executorFor } from '../../../solver/executors/index.js';
import { LocalSourceError } from '../../../solver/executors/errors.js';
import { listTree, openFixture, vertex, withView, writeTree } from './fixture.js';

const localOp = (attrs: Record<string, string[]>, name = 'context'): Op => ({
  source: {
    identifier: `local://${name}`,
    attrs: Object.fromEntries(Object.entries(attrs).map(([k, v]) => [k, JSON.stringify(v)])),
  },
});

async function withContext(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'kiln-ctx-'));
  try {
    await writeTree(dir, {
      'app/main.go': 'package main',
      'app/main_test.go': 'package main // test',
      'app/vendor/lib.go': 'package lib',
      'docs/README.md': '# docs',
      'notes.tmp': 'scratch',
      'Dockerfile': 'FROM scratch',
      'escape': { link: '/etc/passwd' },
    });
    await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('a local source selects included, not excluded files, with the parents that reach them', async () => {
  await withContext(async (ctx) => {
    const fx = await openFixture({ contextDir: ctx });
    try {
      const v = vertex(localOp({ 'local.includepattern': ['app', 'escape', 'notes.tmp'], 'local.excludepatterns': ['**/*_test.go', '*.tmp'] }));
      const [res] = await executorFor(v.op).run(v, [], fx.env, () => undefined);
      const files = await withView(fx, res!.snapshot!, (d) => listTree(d));
      assert.deepEqual(files, {
        app: '/',
        'app/main.go': 'package main',
        'app/vendor': '/',
        'app/vendor/lib.go': 'package lib',
        // A link out of the context is kept as a link, never followed to the host's file.
        escape: '-> /etc/passwd',
      });
      const owner = await withView(fx, res!.snapshot!, (d) => lstat(path.join(d, 'app/main.go')));
      assert.deepEqual([owner.uid, owner.gid], [0, 0]);

      // Excludes alone (a .dockerignore): everything else, with `!` exceptions honoured.
      const v2 = vertex(localOp({ 'local.excludepatterns': ['docs', 'app', '!app/main.go', 'escape'] }));
      const [res2] = await executorFor(v2.op).run(v2, [], fx.env, () => undefined);
      assert.deepEqual(await withView(fx, res2!.snapshot!, (d) => listTree(d)), {
        Dockerfile: 'FROM scratch', app: '/', 'app/main.go': 'package main', 'notes.tmp': 'scratch',
      });
    } finally {
      await fx.cleanup();
    }
  });
});

test('the content key changes with content and selection, never with mtimes alone', async () => {
  await withContext(async (ctx) => {
    const fx = await openFixture({ contextDir: ctx });
    try {
      const v = vertex(localOp({ 'local.includepattern': ['app'] }));
      // A fresh env per call: each stands for a new build, which walks the context again.
      const key = () => executorFor(v.op).contentKey!(v, { ...fx.env });
      const k1 = await key();
      assert.match(k1!, /^sha256:[0-9a-f]{64}$/);

      await utimes(path.join(ctx, 'app/main.go'), new Date('2001-01-01'), new Date('2001-01-01'));
      assert.equal(await key(), k1, 'an mtime-only change must not change the key');

      await writeFile(path.join(ctx, 'app/main.go'), 'package main // edited');
      const k2 = await key();
      assert.notEqual(k2, k1);

      // A file outside the selection does not count.
      await writeFile(path.join(ctx, 'docs/README.md'), 'changed');
      assert.equal(await key(), k2);

      // The digests are cached by path+size+mtime+inode: a same-size edit that restores the mtime
      // is (by design) not re-read, which proves the cache is used.
      const p = path.join(ctx, 'app/main.go');
      const when = new Date('2002-02-02T00:00:00Z');
      await utimes(p, when, when);
      assert.equal(await key(), k2);
      await writeFile(p, 'package main // EDITED');
      await utimes(p, when, when);
      assert.equal(await key(), k2);
      const files = (await readdir(path.join(fx.root, 'cache', 'context'))).sort();
      assert.equal(files.length, 2, `digest records and key memo, for one context dir: ${files.join()}`);
      const name = files.find((f) => !f.endsWith('.keys.json'));
      const cache = JSON.parse(await readFile(path.join(fx.root, 'cache', 'context', name!), 'utf8')) as { dir: string; rels: string; digests?: unknown };
      assert.equal(cache.digests, undefined, 'GC must not read these digests as blob roots');
      assert.equal(cache.dir, ctx);
      const hashed = cache.rels.split('\0');
      assert.ok(hashed.includes('app/main.go'), hashed.join());
      assert.ok(hashed.every((rel) => rel.startsWith('app/')), `only selected files are hashed: ${hashed.join()}`);
    } finally {
      await fx.cleanup();
    }
  });
});

test('an unchanged context reuses its key without reading the digest records; any change recomputes it', async () => {
  await withContext(async (ctx) => {
    const fx = await openFixture({ contextDir: ctx });
    try {
      const v = vertex(localOp({ 'local.includepattern': ['app'] }));
      const key = () => executorFor(v.op).contentKey!(v, { ...fx.env });
      const k1 = await key();
      const dir = path.join(fx.root, 'cache', 'context');
      const records = path.join(dir, (await readdir(dir)).find((f) => !f.endsWith('.keys.json'))!);
      // Garbage in the records: a rebuild that reads them would have to rehash, and rewrite them.
      await writeFile(records, 'not json');
      assert.equal(await key(), k1);
      assert.equal(await readFile(records, 'utf8'), 'not json', 'the records were not needed');

      // Any metadata change (here a new file outside the selection) moves the fingerprint: the key
      // is recomputed from the files, and the records rebuilt.
      await writeFile(path.join(ctx, 'docs/new.md'), 'new');
      assert.equal(await key(), k1, 'the selection did not change');
      assert.notEqual(await readFile(records, 'utf8'), 'not json');
      await writeFile(path.join(ctx, 'app/main.go'), 'package main // changed');
      assert.notEqual(await key(), k1);
    } finally {
      await fx.cleanup();
    }
  });
});

test('followed paths bring the targets of their links, and the key follows the target\'s content', async () => {
  await withContext(async (ctx) => {
    const outside = `${ctx}.outside`;
    await writeTree(ctx, {
      'real.txt': 'real', 'good': { link: 'real.txt' }, 'dlink': { link: 'app' },
      // Resolved inside the context (as BuildKit does): the file next to the context is never read.
      'up': { link: `../${path.basename(outside)}` },
    });
    await writeFile(outside, 'host file');
    const fx = await openFixture({ contextDir: ctx });
    try {
      const v = vertex(localOp({ 'local.followpaths': ['good', 'dlink/main.go', 'up'] }));
      const [res] = await executorFor(v.op).run(v, [], fx.env, () => undefined);
      assert.deepEqual(await withView(fx, res!.snapshot!, (d) => listTree(d)), {
        app: '/', 'app/main.go': 'package main', dlink: '-> app', good: '-> real.txt', 'real.txt': 'real', up: `-> ../${path.basename(outside)}`,
      });

      const key = () => executorFor(v.op).contentKey!(v, { ...fx.env });
      const k1 = await key();
      await writeFile(path.join(ctx, 'real.txt'), 'edited');
      const k2 = await key();
      assert.notEqual(k2, k1, 'editing the target of a followed link changes the key');
      await writeFile(path.join(ctx, 'app/main.go'), 'package main // edited');
      assert.notEqual(await key(), k2, 'so does editing a file reached through a linked directory');
      const k3 = await key();
      await writeFile(outside, 'host file, edited');
      await writeFile(path.join(ctx, 'app/main_test.go'), 'not selected, edited');
      assert.equal(await key(), k3, 'files outside the context or the selection do not count');
    } finally {
      await fx.cleanup();
      await rm(outside, { force: true });
    }
  });
});

test('a local source other than "context" is a user-facing error', async () => {
  const fx = await openFixture();
  try {
    const v = vertex(localOp({}, 'dockerfile'));
    await assert.rejects(executorFor(v.op).run(v, [], fx.env, () => undefined), (err: unknown) => err instanceof LocalSourceError && /"dockerfile"/.test(err.message));
  } finally {
    await fx.cleanup();
  }
});
