// `kiln build` end to end with ADD of a URL (served by node:http on 127.0.0.1, fetched by the kiln
// process) and COPY --link: the files land in images that run, a wrong checksum fails with the
// digests, and a linked copy stays cached when only an earlier RUN changed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { repoRoot, runKiln, type CliResult } from '../helpers/kiln-cli.js';
import { mountsUnder } from '../helpers/mountinfo.js';
import { stepEvents, type StepEvent } from '../helpers/solve-status.js';

const run = promisify(execFile);
const env = { ...process.env, SOURCE_DATE_EPOCH: '1700000000' };
const PAYLOAD = 'downloaded by kiln\n';
const sha = (s: string): string => `sha256:${createHash('sha256').update(s).digest('hex')}`;
let dir: string;
let root: string;
let server: Server;
let url: string;
let hits = 0;

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'kiln-build-src-'));
  root = path.join(dir, 'root');
  const rootfs = path.join(dir, 'rootfs.tar');
  await run('bash', [path.join(repoRoot, 'examples/make-busybox-rootfs.sh'), rootfs]);
  const imported = await runKiln(['import', rootfs, 'kiln.local/busybox:latest', '--root', root], { env });
  assert.equal(imported.code, 0, imported.stderr);
  server = createServer((req, res) => {
    hits++;
    if (req.url === '/payload.txt') res.writeHead(200, { etag: '"p1"' }).end(PAYLOAD);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/payload.txt`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  assert.deepEqual((await mountsUnder(root)).map((m) => m.mountPoint), [], 'no mount outlives the builds');
  await rm(dir, { recursive: true, force: true });
});

async function context(name: string, dockerfile: string, files: Record<string, string> = {}): Promise<string> {
  const ctx = path.join(dir, name);
  await mkdir(ctx, { recursive: true });
  await writeFile(path.join(ctx, 'Dockerfile'), dockerfile);
  for (const [f, text] of Object.entries(files)) await writeFile(path.join(ctx, f), text);
  return ctx;
}

async function build(ctx: string, ...flags: string[]): Promise<CliResult & { events: StepEvent[] }> {
  const r = await runKiln(['build', '--progress', 'rawjson', '--root', root, ...flags, ctx], { env });
  return { ...r, events: stepEvents(r.stderr) };
}

async function cat(image: string, file: string): Promise<string> {
  const r = await runKiln(['run', '--root', root, '--rm', image, 'cat', file], { env });
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.toString();
}

test('ADD --checksum of a URL lands in the image; a rebuild does not touch the server; a wrong checksum fails with both digests', async () => {
  const ctx = await context('add-url', `FROM kiln.local/busybox:latest\nADD --checksum=${sha(PAYLOAD)} ${url} /dst\n`);
  const first = await build(ctx, '-t', 'added');
  assert.equal(first.code, 0, first.stderr);
  assert.equal(await cat('added', '/dst'), PAYLOAD);

  const hitsBefore = hits;
  const again = await build(ctx, '-t', 'added');
  assert.equal(again.code, 0, again.stderr);
  assert.equal(hits, hitsBefore, 'a pinned, cached ADD makes no request');
  assert.ok(again.events.some((e) => e.type === 'vertex.cached' && e.name.includes('ADD')), 'the ADD is cached');

  const wrong = sha('not the payload');
  const bad = await build(await context('add-url-bad', `FROM kiln.local/busybox:latest\nADD --checksum=${wrong} ${url} /dst\n`));
  assert.notEqual(bad.code, 0);
  assert.ok(bad.stderr.includes(url) && bad.stderr.includes(wrong) && bad.stderr.includes(sha(PAYLOAD)), bad.stderr);
  assert.ok(!/\n\s+at /.test(bad.stderr), 'a user error prints no stack');
});

test('COPY --link lands in a running image; after an earlier RUN changes, the linked copy stays cached', async () => {
  const df = (word: string): string => `FROM kiln.local/busybox:latest\nRUN echo ${word} > /base.txt\nCOPY --link --chown=1000:1000 app.txt /app/\nCMD ["cat", "/app/app.txt"]\n`;
  const ctx = await context('link', df('one'), { 'app.txt': 'linked file\n' });
  const first = await build(ctx, '-t', 'linked');
  assert.equal(first.code, 0, first.stderr);
  assert.equal(await cat('linked', '/app/app.txt'), 'linked file\n');
  assert.equal(await cat('linked', '/base.txt'), 'one\n');
  const ls = await runKiln(['run', '--root', root, '--rm', 'linked', 'stat', '-c', '%u:%g', '/app/app.txt'], { env });
  assert.equal(ls.stdout.toString().trim(), '1000:1000', ls.stderr);

  await writeFile(path.join(ctx, 'Dockerfile'), df('two'));
  const second = await build(ctx, '-t', 'linked');
  assert.equal(second.code, 0, second.stderr);
  const cached = second.events.flatMap((e) => (e.type === 'vertex.cached' ? [e.name] : []));
  const started = second.events.flatMap((e) => (e.type === 'vertex.start' ? [e.name] : []));
  assert.ok(cached.includes('[3/4] COPY --link --chown=1000:1000 app.txt /app/'), `cached: ${cached.join(' | ')}`);
  assert.ok(started.includes('[2/4] RUN echo two > /base.txt'), `started: ${started.join(' | ')}`);
  assert.ok(started.includes('[3/4] LINK COPY --link --chown=1000:1000 app.txt /app/'), 'only the merge re-runs');
  assert.equal(await cat('linked', '/base.txt'), 'two\n');
  assert.equal(await cat('linked', '/app/app.txt'), 'linked file\n');
});
