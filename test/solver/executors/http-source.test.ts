// The http source against a real node:http server on 127.0.0.1: pinned checksums key without the
// network, unpinned sources revalidate with ETags, the file lands with BuildKit's mode and owner,
// and bad checksums, error statuses, dead hosts and stalled servers fail with the URL named.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { lstat, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Op } from '../../../solver/llb/types.js';
import { executorFor } from '../../../solver/executors/index.js';
import { HttpChecksumMismatchError, HttpSourceError } from '../../../solver/executors/errors.js';
import { HttpCache } from '../../../solver/executors/http-fetch.js';
import type { SolveEnv } from '../../../solver/types.js';
import { listTree, openFixture, vertex, withView, type Fixture } from './fixture.js';

const LAST_MODIFIED = 'Tue, 05 Mar 2019 06:07:08 GMT';
let body = 'hello over http\n';
let etag = '"v1"';
const requests: { path: string; headers: IncomingHttpHeaders }[] = [];
let server: Server;
let base: string;
let fx: Fixture;

const sha = (s: string): string => `sha256:${createHash('sha256').update(s).digest('hex')}`;

before(async () => {
  server = createServer((req, res) => {
    requests.push({ path: req.url ?? '', headers: req.headers });
    if (req.url === '/file.txt') {
      if (req.headers['if-none-match'] === etag) {
        res.writeHead(304).end();
        return;
      }
      res.writeHead(200, { etag, 'last-modified': LAST_MODIFIED, 'content-type': 'text/plain' }).end(body);
    } else if (req.url === '/slow') {
      // Headers and a first chunk, then silence: the client has to give up or be cancelled.
      res.writeHead(200);
      res.write('partial');
    } else {
      res.writeHead(404, 'Not Found').end('no');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fx = await openFixture();
});

after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await fx.cleanup();
});

function httpOp(url: string, attrs: Record<string, string> = {}): Op {
  return { source: { identifier: url, attrs } };
}

async function contentKey(op: Op, env: SolveEnv = fx.env): Promise<string | undefined> {
  return executorFor(op).contentKey!(vertex(op, `ADD ${op.source!.identifier}`), env);
}

async function run(op: Op, env: SolveEnv = fx.env): Promise<string> {
  const [res] = await executorFor(op).run(vertex(op, `[2/2] ADD ${op.source!.identifier}`), [], env, () => undefined);
  return res!.snapshot!;
}

test('a pinned checksum is the key without a request; the file lands with http.perm, uid, gid and the Last-Modified time', async () => {
  body = 'pinned content\n';
  const op = httpOp(`${base}/file.txt`, { 'http.checksum': sha(body), 'http.filename': 'renamed.txt', 'http.perm': '0755', 'http.uid': '1000', 'http.gid': '1001' });
  const before = requests.length;
  assert.equal(await contentKey(op), sha(body));
  assert.equal(requests.length, before, 'no request for a pinned key');
  const snap = await run(op);
  await withView(fx, snap, async (dir) => {
    assert.deepEqual(await listTree(dir), { 'renamed.txt': 'pinned content\n' });
    const st = await lstat(path.join(dir, 'renamed.txt'));
    assert.deepEqual([st.mode & 0o7777, st.uid, st.gid, st.mtimeMs], [0o755, 1000, 1001, Date.parse(LAST_MODIFIED)]);
  });
});

test('without http.perm the file is 0600 root, named after the URL', async () => {
  body = 'default mode\n';
  const snap = await run(httpOp(`${base}/file.txt`));
  await withView(fx, snap, async (dir) => {
    assert.deepEqual(await listTree(dir), { 'file.txt': 'default mode\n' });
    const st = await lstat(path.join(dir, 'file.txt'));
    assert.deepEqual([st.mode & 0o7777, st.uid, st.gid], [0o600, 0, 0]);
  });
});

test('unpinned: the key is the content digest, revalidated with If-None-Match; a 304 keeps it, a change moves it', async () => {
  body = 'version one\n';
  etag = '"e1"';
  const op = httpOp(`${base}/file.txt`, { 'http.filename': 'file.txt' });
  const n = requests.length;
  assert.equal(await contentKey(op), sha('version one\n'));
  const record = JSON.parse(await readFile(path.join(fx.root, 'cache', 'http.json'), 'utf8')) as Record<string, { etag?: string; digest: string }>;
  assert.deepEqual(record[`${base}/file.txt`], { digest: sha('version one\n'), etag: '"e1"', lastModified: LAST_MODIFIED });

  // run uses what contentKey fetched instead of downloading again.
  const snap = await run(op);
  assert.equal(requests.length, n + 1);
  await withView(fx, snap, async (dir) => assert.deepEqual(await listTree(dir), { 'file.txt': 'version one\n' }));

  assert.equal(await contentKey(op), sha('version one\n'));
  assert.equal(requests.at(-1)!.headers['if-none-match'], '"e1"');
  assert.equal(requests.at(-1)!.headers['if-modified-since'], LAST_MODIFIED);

  body = 'version two\n';
  etag = '"e2"';
  assert.equal(await contentKey(op), sha('version two\n'));
  // The cache dir holds at most the latest body, never temp files.
  assert.deepEqual(await readdir(new HttpCache(fx.root).dir), [sha('version two\n').slice('sha256:'.length)]);
});

test('a wrong checksum fails naming the URL, the expected and the actual digest', async () => {
  body = 'actual bytes\n';
  const wrong = sha('something else');
  const op = httpOp(`${base}/file.txt`, { 'http.checksum': wrong, 'http.filename': 'file.txt' });
  await assert.rejects(run(op), (err: unknown) => {
    assert.ok(err instanceof HttpChecksumMismatchError);
    assert.equal(err.code, 'KILN_HTTP_CHECKSUM');
    assert.equal(err.userFacing, true);
    assert.ok(err.message.includes(`${base}/file.txt`) && err.message.includes(wrong) && err.message.includes(sha('actual bytes\n')), err.message);
    return true;
  });
  await assert.rejects(contentKey(httpOp(`${base}/file.txt`, { 'http.checksum': 'md5:abc' })), /is not a digest/);
});

test('an error status and an unreachable host fail with the URL and the reason', async () => {
  await assert.rejects(run(httpOp(`${base}/missing.txt`)), (err: unknown) => {
    assert.ok(err instanceof HttpSourceError);
    assert.match(err.message, new RegExp(`cannot fetch ${base}/missing.txt: the server answered HTTP 404 Not Found`));
    return true;
  });
  // A port that was just free: nothing listens there.
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const dead = `http://127.0.0.1:${(probe.address() as AddressInfo).port}/x`;
  await new Promise((resolve) => probe.close(resolve));
  await assert.rejects(contentKey(httpOp(dead)), (err: unknown) => {
    assert.ok(err instanceof HttpSourceError);
    assert.match(err.message, new RegExp(`cannot fetch ${dead}: .*ECONNREFUSED.*reachable`));
    return true;
  });
});

test('a stalled download stops when the build is cancelled, and on its own after the idle timeout', async () => {
  const ac = new AbortController();
  const env: SolveEnv = { ...fx.env, signal: ac.signal };
  const started = Date.now();
  setTimeout(() => ac.abort(new Error('build cancelled')), 200);
  await assert.rejects(run(httpOp(`${base}/slow`), env), /build cancelled/);
  assert.ok(Date.now() - started < 5000, 'cancellation is prompt');

  const cache = new HttpCache(fx.root);
  await assert.rejects(cache.fetch(`${base}/slow`, { step: 'ADD', signal: new AbortController().signal, idleTimeoutMs: 300 }), (err: unknown) => {
    assert.ok(err instanceof HttpSourceError);
    assert.match(err.message, /\/slow: the server sent nothing for 0.3 s/);
    return true;
  });
  assert.deepEqual((await readdir(cache.dir)).filter((n) => n.startsWith('.tmp-')), [], 'no partial download is left');
});
