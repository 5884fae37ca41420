// A registry behind a TCP proxy that misbehaves: connections dropped in the middle of downloads
// and uploads (both complete, the pulled bytes identical), 429/503 answers retried, and a flipped byte in a blob (the pull
// fails naming the blob, and the store holds nothing of it).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ContentStore } from '../../snapshotter/content.js';
import { RegistryClient } from '../../registry/client.js';
import { pushImage } from '../../registry/push.js';
import { fetchManifest } from '../../registry/manifest-resolve.js';
import { fetchBlobs } from '../../registry/blob-fetch.js';
import { startRegistry, type RegistryServer } from '../helpers/registry.js';
import { startProxy, type ProxyConnection, type TcpProxy } from '../helpers/tcp-proxy.js';
import { storeSink } from '../../api/pull.js';
import { makeImage } from './image-fixture.js';

const MiB = 1024 * 1024;

/** Cuts the first connection whose `side` bytes pass `at`, once. */
function dropOnceAt(at: number, side: 'fromServer' | 'fromClient') {
  let done = false;
  return (conn: ProxyConnection, chunk: Buffer): Buffer | 'drop' => {
    if (!done && conn[side] + chunk.length > at) {
      done = true;
      return 'drop';
    }
    return chunk;
  };
}

describe('registry faults through a proxy', () => {
  let reg: RegistryServer;
  let dir: string;
  let src: ContentStore;
  const proxies: TcpProxy[] = [];
  const clients: RegistryClient[] = [];
  const through = (proxy: TcpProxy): RegistryClient => {
    const c = new RegistryClient(proxy.host, { env: { HOME: dir }, retry: { baseMs: 10 } });
    clients.push(c);
    return c;
  };

  before(async () => {
    reg = await startRegistry();
    dir = await mkdtemp(path.join(tmpdir(), 'kiln-faults-'));
    src = new ContentStore(path.join(dir, 'src'));
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await Promise.all(proxies.map((p) => p.close()));
    await reg.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('completes a chunked and a monolithic upload whose connections drop midway', async () => {
    const chunked = await startProxy(reg.port, { client: dropOnceAt(1.5 * MiB, 'fromClient') });
    proxies.push(chunked);
    const img = await makeImage(src, [3 * MiB]);
    await pushImage(through(chunked), 'faults/chunked', { ...img.push, tag: '1' }, 'chunked', { chunkThreshold: MiB, chunkSize: 512 * 1024 });
    assert.equal(chunked.drops(), 1);
    const mono = await startProxy(reg.port, { client: dropOnceAt(MiB, 'fromClient') });
    proxies.push(mono);
    const img2 = await makeImage(src, [2 * MiB]);
    await pushImage(through(mono), 'faults/mono', { ...img2.push, tag: '1' }, 'mono');
    assert.equal(mono.drops(), 1);
    const direct = new RegistryClient(reg.host, { env: { HOME: dir } });
    clients.push(direct);
    assert.equal((await fetchManifest(direct, 'faults/chunked', '1', 'chunked')).digest, img.manifestDigest);
    assert.equal((await fetchManifest(direct, 'faults/mono', '1', 'mono')).digest, img2.manifestDigest);
  });

  it('a chunked upload cut between chunks resumes from the Range the registry reports, not from zero', async () => {
    // The connection is cut as the third PATCH starts, before any of it reaches the registry: the
    // session holds the first two chunks, and the rest is all that may be sent again.
    let patches = 0;
    let cut = false;
    let afterCut = 0;
    const proxy = await startProxy(reg.port, {
      client: (_conn, chunk) => {
        if (!cut && chunk.subarray(0, 6).toString('latin1') === 'PATCH ' && ++patches === 3) {
          cut = true;
          return 'drop';
        }
        if (cut) afterCut += chunk.length;
        return chunk;
      },
    });
    proxies.push(proxy);
    const img = await makeImage(src, [3 * MiB]);
    const before = (await reg.requests()).length;
    await pushImage(through(proxy), 'faults/resume', { ...img.push, tag: '1' }, 'resume', { chunkThreshold: MiB, chunkSize: 512 * 1024 });
    assert.equal(proxy.drops(), 1);
    const since = (await reg.requests()).slice(before);
    // Six 512 KiB chunks make the 3 MiB layer: each was taken once, none sent again from zero.
    assert.equal(since.filter((r) => r.method === 'PATCH' && r.status === 202).length, 6);
    assert.equal(since.filter((r) => r.method === 'POST' && r.path.includes('/blobs/uploads/')).length, 2, 'one session for the layer, one for the config');
    assert.ok(since.some((r) => r.method === 'GET' && r.path.includes('/blobs/uploads/') && r.status === 204), 'the session was asked how far it got');
    // What crossed after the cut: the two chunks not yet taken and the requests around them.
    assert.ok(afterCut < 3 * MiB && afterCut >= 2 * MiB, `${afterCut} bytes sent after the cut`);
    const direct = new RegistryClient(reg.host, { env: { HOME: dir } });
    clients.push(direct);
    assert.equal((await fetchManifest(direct, 'faults/resume', '1', 'resume')).digest, img.manifestDigest);
  });

  it('resumes a download whose connection drops, and stores the identical bytes', async () => {
    const img = await makeImage(src, [4 * MiB]);
    await pushImage(new RegistryClient(reg.host, { env: { HOME: dir } }), 'faults/pull', { ...img.push, tag: '1' }, 'pull');
    const proxy = await startProxy(reg.port, { server: dropOnceAt(2 * MiB, 'fromServer') });
    proxies.push(proxy);
    const dst = new ContentStore(path.join(dir, 'dst-drop'));
    await fetchBlobs(through(proxy), 'faults/pull', img.blobs, storeSink(dst), 'pull', { concurrency: 1 });
    assert.equal(proxy.drops(), 1);
    for (const b of img.blobs) assert.deepEqual(await readFile(dst.blobPath(b.digest)), await readFile(src.blobPath(b.digest)));
    const ranged = (await reg.requests()).filter((r) => r.method === 'GET' && r.path.includes(img.blobs[1]!.digest));
    assert.equal(ranged.at(-1)!.status, 206, 'the second request resumed with Range');
  });

  it('retries a 429 after its Retry-After and a 503 with backoff', async () => {
    const img = await makeImage(src, [100]);
    await pushImage(new RegistryClient(reg.host, { env: { HOME: dir } }), 'faults/retry', { ...img.push, tag: '1' }, 'retry');
    const answers = [
      'HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\nContent-Length: 0\r\n\r\n',
      'HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n',
    ];
    let asked = 0;
    const proxy = await startProxy(reg.port, {
      client: (_conn, chunk) => {
        if (!chunk.toString('latin1').startsWith('GET /v2/faults/retry/manifests/1 ')) return chunk;
        asked++;
        const answer = answers.shift();
        return answer ? { answer: Buffer.from(answer) } : chunk;
      },
    });
    proxies.push(proxy);
    const started = Date.now();
    assert.equal((await fetchManifest(through(proxy), 'faults/retry', '1', 'retry')).digest, img.manifestDigest);
    assert.equal(asked, 3);
    assert.ok(Date.now() - started >= 950, 'the Retry-After second was waited');
  });

  it('refuses a blob with a flipped byte, naming it, and stores nothing of it', async () => {
    const img = await makeImage(src, [MiB]);
    await pushImage(new RegistryClient(reg.host, { env: { HOME: dir } }), 'faults/corrupt', { ...img.push, tag: '1' }, 'corrupt');
    const at = 200_000;
    const proxy = await startProxy(reg.port, {
      server: (conn, chunk) => {
        if (conn.fromServer > at || conn.fromServer + chunk.length <= at) return chunk;
        const copy = Buffer.from(chunk);
        copy[at - conn.fromServer]! ^= 0xff;
        return copy;
      },
    });
    proxies.push(proxy);
    const dst = new ContentStore(path.join(dir, 'dst-corrupt'));
    const layer = img.blobs[1]!;
    await assert.rejects(fetchBlobs(through(proxy), 'faults/corrupt', [layer], storeSink(dst), '127.0.0.1/faults/corrupt:1'), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'KILN_REGISTRY_BLOB_MISMATCH');
      assert.ok(err.message.includes(layer.digest), err.message);
      return true;
    });
    assert.equal(await dst.has(layer.digest), false);
    assert.deepEqual(await readdir(path.join(dst.root, 'ingest')), [], 'no partial download is left');
  });
});
