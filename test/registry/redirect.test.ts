// A registry that sends blob downloads to another host (S3/GCS-style 307): the client follows the
// redirect, verifies the bytes, and sends the registry's credentials only to the registry. The
// "registry" here is a Node front that demands Basic auth and passes everything but blob GETs to
// a real docker-registry; the blob host serves the bytes it gets from that registry.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ContentStore } from '../../snapshotter/content.js';
import { RegistryClient } from '../../registry/client.js';
import { pushImage } from '../../registry/push.js';
import { fetchBlobs } from '../../registry/blob-fetch.js';
import { storeSink } from '../../api/pull.js';
import { startRegistry, type RegistryServer } from '../helpers/registry.js';
import { makeImage } from './image-fixture.js';

const BASIC = `Basic ${Buffer.from('carol:s3cret-redirect').toString('base64')}`;

function forward(port: number, req: IncomingMessage, res: import('node:http').ServerResponse, pathOverride?: string): void {
  const headers = { ...req.headers };
  delete headers.authorization;
  const up = request({ host: '127.0.0.1', port, method: req.method, path: pathOverride ?? req.url, headers }, (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(res);
  });
  req.pipe(up);
}

function listen(server: Server): Promise<number> {
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r((server.address() as { port: number }).port)));
}

describe('blob redirects to another host', () => {
  let reg: RegistryServer;
  let dir: string;
  let front: Server;
  let blobs: Server;
  let frontPort: number;
  const blobHostSaw: (string | undefined)[] = [];

  before(async () => {
    reg = await startRegistry();
    dir = await mkdtemp(path.join(tmpdir(), 'kiln-redirect-'));
    blobs = createServer((req, res) => {
      blobHostSaw.push(req.headers.authorization);
      const url = new URL(req.url ?? '/', 'http://x');
      forward(reg.port, req, res, `/v2/${url.searchParams.get('repo')}/blobs/${url.pathname.split('/').pop()}`);
    });
    const blobPort = await listen(blobs);
    front = createServer((req, res) => {
      if (req.headers.authorization !== BASIC) {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="front"' }).end();
        return;
      }
      const m = /^\/v2\/(.+)\/blobs\/(sha256:[a-f0-9]{64})$/.exec(req.url ?? '');
      if (req.method === 'GET' && m) {
        res.writeHead(307, { location: `http://localhost:${blobPort}/blob/${m[2]}?repo=${encodeURIComponent(m[1]!)}` }).end();
        return;
      }
      forward(reg.port, req, res);
    });
    frontPort = await listen(front);
  });
  after(async () => {
    await new Promise((r) => front.close(r));
    await new Promise((r) => blobs.close(r));
    await reg.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('follows the redirect without the Authorization header and stores verified bytes', async () => {
    const src = new ContentStore(path.join(dir, 'src'));
    const img = await makeImage(src, [300_000]);
    const direct = new RegistryClient(reg.host, { env: { HOME: dir } });
    await pushImage(direct, 'redir/app', { ...img.push, tag: '1' }, 'redir/app:1');
    await direct.close();

    const client = new RegistryClient(`127.0.0.1:${frontPort}`, { env: { HOME: dir }, credentials: { username: 'carol', password: 's3cret-redirect' } });
    const dst = new ContentStore(path.join(dir, 'dst'));
    await fetchBlobs(client, 'redir/app', img.blobs, storeSink(dst), 'redir/app:1');
    await client.close();
    assert.equal(blobHostSaw.length, img.blobs.length, 'every blob came from the other host');
    assert.deepEqual(blobHostSaw, img.blobs.map(() => undefined), 'no credentials went to it');
    for (const b of img.blobs) assert.deepEqual(await readFile(dst.blobPath(b.digest)), await readFile(src.blobPath(b.digest)));
  });
});
