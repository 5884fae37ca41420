// `kiln build -` (a Dockerfile or a compressed tar context on stdin) and `-f -`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { repoRoot, runKiln } from '../helpers/kiln-cli.js';

let root: string;
const stdinDirs = async () => (await readdir(tmpdir())).filter((n) => n.startsWith('kiln-stdin-'));

before(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'kiln-build-stdin-'));
  const rootfs = execFileSync(path.join(repoRoot, 'examples', 'make-busybox-rootfs.sh'), { maxBuffer: 64 << 20 });
  const imp = await runKiln(['import', '--root', root, '-', 'kiln.local/busybox'], { input: rootfs });
  assert.equal(imp.code, 0, imp.stderr);
});
after(() => rm(root, { recursive: true, force: true }));

test('a Dockerfile on stdin builds with an empty context', async () => {
  const before = await stdinDirs();
  const b = await runKiln(['build', '--root', root, '--progress', 'plain', '-t', 's1', '-'], { input: 'FROM kiln.local/busybox\nRUN echo from-stdin > /x\n' });
  assert.equal(b.code, 0, b.stderr);
  const r = await runKiln(['run', '--root', root, '--rm', 's1', 'cat', '/x']);
  assert.equal(r.stdout.toString(), 'from-stdin\n');
  assert.deepEqual(await stdinDirs(), before, 'the temp context is removed');
});

test('a gzipped tar on stdin is the context, with its Dockerfile and .dockerignore', async () => {
  const tgz = execFileSync('tar', ['-czf', '-', '-C', path.join(repoRoot, 'examples', 'hello'), '.']);
  const b = await runKiln(['build', '--root', root, '--progress', 'plain', '-t', 's2', '-'], { input: tgz });
  assert.equal(b.code, 0, b.stderr);
  const r = await runKiln(['run', '--root', root, '--rm', 's2']);
  assert.equal(r.stdout.toString(), 'Hello from kiln, world!\n');
});

test('-f - reads the Dockerfile from stdin and the context from the folder; errors are one line', async () => {
  const b = await runKiln(['build', '--root', root, '--progress', 'plain', '-f', '-', '-t', 's3', 'examples/hello'], { input: 'FROM kiln.local/busybox\nCOPY greet.sh /g\n' });
  assert.equal(b.code, 0, b.stderr);
  const r = await runKiln(['run', '--root', root, '--rm', 's3', 'head', '-1', '/g']);
  assert.equal(r.stdout.toString(), '#!/bin/sh\n');
  const bad = await runKiln(['build', '--root', root, '-'], { input: 'FROM kiln.local/busybox\nNOPE\n' });
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /Dockerfile:2: unknown instruction: NOPE/);
  const empty = await runKiln(['build', '--root', root, '-']);
  assert.equal(empty.code, 1);
  assert.match(empty.stderr, /nothing on stdin/);
});
