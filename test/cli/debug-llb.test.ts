// `kiln debug llb` end to end through the real binary: outputs, determinism, and user errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runKiln } from '../helpers/kiln-cli.js';
import { unmarshalDefinition } from '../../solver/llb/marshal.js';

async function withContext(files: Record<string, string>, fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'kiln-llb-'));
  try {
    for (const [name, body] of Object.entries(files)) await writeFile(path.join(dir, name), body);
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('the README example compiles to JSON with its ops and image config', async () => {
  const r = await runKiln(['debug', 'llb', 'examples/hello']);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout.toString('utf8'));
  assert.equal(out.config.config.User, '1000:1000');
  assert.deepEqual(out.config.config.Entrypoint, ['/usr/local/bin/greet']);
  assert.deepEqual(out.config.config.Cmd, ['world']);
  assert.ok(out.config.config.Env.includes('GREETING=Hello from'));
  const text = JSON.stringify(out.llb);
  assert.match(text, /docker-image:\/\/kiln\.local\/busybox:latest/);
  assert.match(text, /local:\/\/context/);
  assert.match(text, /greet\.sh/);
});

test('pb output is byte-identical across runs and decodes to a Definition ending in the terminal op', async () => {
  const a = await runKiln(['debug', 'llb', '--format', 'pb', 'examples/hello']);
  const b = await runKiln(['debug', 'llb', '--format', 'pb', 'examples/hello']);
  assert.equal(a.code, 0, a.stderr);
  assert.ok(a.stdout.length > 100);
  assert.deepEqual(a.stdout, b.stdout);
  const def = unmarshalDefinition(a.stdout);
  assert.ok(def.def.length >= 5);
});

test('a changed --build-arg changes the pb bytes', async () => {
  const a = await runKiln(['debug', 'llb', '--format', 'pb', 'examples/hello']);
  const b = await runKiln(['debug', 'llb', '--format', 'pb', '--build-arg', 'BASE=kiln.local/other:1', 'examples/hello']);
  assert.equal(b.code, 0, b.stderr);
  assert.notDeepEqual(a.stdout, b.stdout);
});

test('user mistakes print one line with file:line and no stack trace', async () => {
  await withContext({ Dockerfile: 'FROM scratch\nCOPPY a b\n' }, async (dir) => {
    const r = await runKiln(['debug', 'llb', dir]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Dockerfile:2/);
    assert.match(r.stderr, /COPPY/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  });
  await withContext({ Dockerfile: 'FROM scratch AS a\nFROM scratch\nCOPY --from=b /x /y\nFROM scratch AS b\n' }, async (dir) => {
    const r = await runKiln(['debug', 'llb', '--target', 'b', dir]);
    assert.equal(r.code, 0, 'the stage with the bad reference is not reached from target b');
    const bad = await runKiln(['debug', 'llb', '-f', path.join(dir, 'Dockerfile'), '--target', 'a', dir]);
    assert.equal(bad.code, 0);
    const full = await runKiln(['debug', 'llb', dir]);
    assert.equal(full.code, 0, 'the last stage (b) does not reach the bad stage');
  });
  await withContext({ Dockerfile: 'FROM scratch AS a\nCOPY --from=b /x /y\nFROM scratch AS b\nCOPY --from=a /y /z\n' }, async (dir) => {
    const r = await runKiln(['debug', 'llb', dir]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Dockerfile:2: .*--from=b.*defined later/);
  });
  const missing = await runKiln(['debug', 'llb', '/nonexistent-kiln-context']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /not a directory/);
  const badArg = await runKiln(['debug', 'llb', '--build-arg', '=x', 'examples/hello']);
  assert.equal(badArg.code, 1);
  assert.match(badArg.stderr, /--build-arg '=x'/);
  const badFlag = await runKiln(['debug', 'llb', '--bogus', 'examples/hello']);
  assert.equal(badFlag.code, 1);
  assert.match(badFlag.stderr, /--bogus/);
  assert.doesNotMatch(badFlag.stderr, /\n\s+at /);
});
