// Pushing an image: each blob HEADed first and skipped when present, mounted from another
// repository of the registry where the caller knows one holds it (201 mounted, 202 an upload
// session to use instead, as ECR answers), else uploaded: monolithic below a threshold, in PATCH
// chunks above it (resumed from the Range the registry reports), monolithic again when chunks are
// refused. Manifests go last, children before the index, each with its exact media type.
import { pipeline, Transform, type Readable } from 'node:stream';
import type { Descriptor } from '../oci/image-spec.js';
import { repoScope } from './auth.js';
import type { RegistryClient } from './client.js';
import { PushDigestError, RegistryHttpError } from './errors.js';
import { wasDropped } from './retry.js';
import { header, type HttpResponse } from './transport.js';

export interface PushBlob {
  desc: Descriptor;
  /** The bytes from `start` to `end` (exclusive). */
  read(start: number, end: number): Readable;
  /** Other repositories on this registry known to hold the blob. */
  mountFrom?: readonly string[];
}

export interface PushManifest {
  digest: string;
  mediaType: string;
  bytes: Buffer;
}

export interface PushImage {
  /** Layers and configs. */
  blobs: readonly PushBlob[];
  /** Platform manifests first, then the index or manifest the tag names (the last one). */
  manifests: readonly PushManifest[];
  /** Tag for the last manifest; without one it is put by digest. */
  tag?: string;
}

export type PushOutcome = 'pushed' | 'exists' | 'mounted';

export interface PushOptions {
  /** Blobs uploaded at once (default 4). */
  concurrency?: number;
  /** Blobs this size and above go in chunks (default 32 MiB). */
  chunkThreshold?: number;
  /**
   * Chunk size (default 128 MiB; raised to the registry's OCI-Chunk-Min-Length): the distribution
   * registry pays per chunk, so 16 MiB chunks made a 512 MiB push 1.5x slower than 64 MiB ones here.
   */
  chunkSize?: number;
  /** Tries for one blob upload, resumptions included (default 5). */
  attempts?: number;
  onBlob?: (desc: Descriptor, outcome: PushOutcome) => void;
  /**
   * Runs before a blob the registry lacks is mounted or read (it may run several times): the
   * caller pins what it will read, and an unchanged push, whose blobs all exist, pins nothing.
   */
  beforeUpload?: () => Promise<void>;
  /** How far into the blob the upload has read (a resumed upload goes on from where it resumed). */
  onBytes?: (desc: Descriptor, sent: number) => void;
}

const MiB = 1024 * 1024;

class ChunksRefused extends Error {}

/** The upload session answered 404: the registry dropped it (a connection break can spoil one). */
class SessionLost extends Error {
  constructor(readonly error: RegistryHttpError) {
    super(error.message);
  }
}

/** Runs a request of an open upload session; its 404 means the session is gone, not the repository. */
async function inSession<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throw err instanceof RegistryHttpError && err.status === 404 ? new SessionLost(err) : err;
  }
}

/** Pushes blobs (in parallel), then the manifests in order; returns the last manifest's digest. */
export async function pushImage(client: RegistryClient, repo: string, image: PushImage, display: string, opts: PushOptions = {}): Promise<string> {
  const queue = [...new Map(image.blobs.map((b) => [b.desc.digest, b])).values()];
  let failed: unknown;
  const worker = async (): Promise<void> => {
    for (let b = queue.shift(); b !== undefined && failed === undefined; b = queue.shift()) {
      try {
        // Awaited apart: an optional call skips evaluating its arguments when there is no callback.
        const outcome = await pushBlob(client, repo, b, display, opts);
        opts.onBlob?.(b.desc, outcome);
      } catch (err) {
        failed ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency ?? 4, Math.max(queue.length, 1)) }, worker));
  if (failed !== undefined) throw failed;
  const last = image.manifests.at(-1);
  if (last === undefined) throw new Error('pushImage: no manifest to push');
  for (const m of image.manifests) await putManifest(client, repo, m, m === last && image.tag !== undefined ? image.tag : m.digest, display);
  return last.digest;
}

export async function putManifest(client: RegistryClient, repo: string, m: PushManifest, reference: string, display: string): Promise<void> {
  const res = await client.request({
    method: 'PUT',
    path: `/v2/${repo}/manifests/${reference}`,
    scopes: [repoScope(repo, true)],
    headers: { 'content-type': m.mediaType, 'content-length': String(m.bytes.length) },
    body: () => m.bytes,
    ok: [200, 201],
    what: `pushing manifest ${display}`,
  });
  await res.body.dump();
  checkDigest(res, m.digest, display);
}

export async function pushBlob(client: RegistryClient, repo: string, blob: PushBlob, display: string, opts: PushOptions = {}): Promise<PushOutcome> {
  const { digest } = blob.desc;
  const what = `pushing blob ${digest} to ${display}`;
  const head = await client.request({ method: 'HEAD', path: `/v2/${repo}/blobs/${digest}`, scopes: [repoScope(repo, true)], ok: [200, 404], what });
  await head.body.dump();
  if (head.status === 200) return 'exists';
  await opts.beforeUpload?.();

  let session: URL | undefined;
  for (const from of blob.mountFrom ?? []) {
    if (from === repo) continue;
    const res = await client.request({
      method: 'POST',
      path: `/v2/${repo}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`,
      scopes: [repoScope(repo, true), repoScope(from)],
      headers: { 'content-length': '0' },
      ok: [201, 202],
      what,
    });
    await res.body.dump();
    if (res.status === 201) return 'mounted';
    // 202: the registry did not mount, and opened an upload session instead.
    session = await location(client, res, what);
    break;
  }
  const threshold = opts.chunkThreshold ?? 32 * MiB;
  const attempts = opts.attempts ?? 5;
  let chunked = blob.desc.size >= threshold;
  for (let attempt = 1; ; attempt++) {
    try {
      const start = session ? { url: session, minChunk: 0 } : await startUpload(client, repo, what);
      session = undefined;
      await inSession(() =>
        chunked ? uploadChunked(client, repo, blob, start.url, Math.max(opts.chunkSize ?? 128 * MiB, start.minChunk), what, opts) : uploadMonolithic(client, repo, blob, start.url, what, opts),
      );
      return 'pushed';
    } catch (err) {
      if (err instanceof ChunksRefused) {
        chunked = false;
        continue;
      }
      // A lost session is started again, as a dropped connection is.
      if (err instanceof SessionLost) {
        if (attempt >= attempts) throw err.error;
        continue;
      }
      if (!(wasDropped(err) || (err instanceof RegistryHttpError && err.status >= 500)) || attempt >= attempts) throw err;
    }
  }
}

async function startUpload(client: RegistryClient, repo: string, what: string): Promise<{ url: URL; minChunk: number }> {
  const res = await client.request({ method: 'POST', path: `/v2/${repo}/blobs/uploads/`, scopes: [repoScope(repo, true)], headers: { 'content-length': '0' }, ok: [202], what });
  await res.body.dump();
  return { url: await location(client, res, what), minChunk: Number(header(res, 'oci-chunk-min-length') ?? 0) || 0 };
}

async function location(client: RegistryClient, res: HttpResponse, what: string): Promise<URL> {
  const loc = header(res, 'location');
  if (!loc) throw new RegistryHttpError(client.host, what, res.status, 'the registry gave no upload location');
  return new URL(loc, await client.baseUrl());
}

function withDigest(url: URL, digest: string): URL {
  const u = new URL(url);
  u.searchParams.set('digest', digest);
  return u;
}

/** The bytes of the blob from `start` to `end`, reported to onBytes as they are read. */
function counted(blob: PushBlob, start: number, end: number, opts: PushOptions): Readable {
  const source = blob.read(start, end);
  const onBytes = opts.onBytes;
  if (onBytes === undefined) return source;
  let at = start;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      at += chunk.length;
      onBytes(blob.desc, at);
      done(null, chunk);
    },
  });
  // pipeline: a read error of the source fails the body instead of leaving it hanging.
  return pipeline(source, counter, () => undefined);
}

async function uploadMonolithic(client: RegistryClient, repo: string, blob: PushBlob, url: URL, what: string, opts: PushOptions): Promise<void> {
  const { digest, size } = blob.desc;
  const res = await client.request({
    method: 'PUT',
    path: withDigest(url, digest),
    scopes: [repoScope(repo, true)],
    headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
    body: () => counted(blob, 0, size, opts),
    ok: [201, 204],
    what,
    // A broken upload session is not reused: the caller starts a new one.
    retry: false,
  });
  await res.body.dump();
  checkDigest(res, digest, what);
}

async function uploadChunked(client: RegistryClient, repo: string, blob: PushBlob, first: URL, chunkSize: number, what: string, opts: PushOptions): Promise<void> {
  const { digest, size } = blob.desc;
  const attempts = opts.attempts ?? 5;
  let url = first;
  let offset = 0;
  let drops = 0;
  while (offset < size) {
    const end = Math.min(size, offset + chunkSize);
    let res: HttpResponse;
    try {
      res = await client.request({
        method: 'PATCH',
        path: url,
        scopes: [repoScope(repo, true)],
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(end - offset), 'content-range': `${offset}-${end - 1}` },
        body: () => counted(blob, offset, end, opts),
        ok: [202, 400, 405, 416, 501],
        what,
        retry: false,
      });
    } catch (err) {
      if (!wasDropped(err) || ++drops >= attempts) throw err;
      // Ask the session how far it got, and go on from there; a session the break spoiled (the
      // distribution registry's, when part of a chunk arrived) is given up and the upload restarted.
      const status = await uploadStatus(client, repo, url, what).catch((statusErr: unknown) => {
        throw statusErr instanceof RegistryHttpError && statusErr.status === 404 ? err : statusErr;
      });
      url = status.url;
      offset = status.next;
      continue;
    }
    await res.body.dump();
    if (res.status !== 202) {
      if (offset === 0) throw new ChunksRefused();
      throw new RegistryHttpError(client.host, what, res.status, 'the registry refused a chunk');
    }
    url = await location(client, res, what);
    offset = rangeEnd(header(res, 'range')) ?? end;
  }
  const res = await client.request({ method: 'PUT', path: withDigest(url, digest), scopes: [repoScope(repo, true)], headers: { 'content-length': '0' }, ok: [201, 204], what, retry: false });
  await res.body.dump();
  checkDigest(res, digest, what);
}

async function uploadStatus(client: RegistryClient, repo: string, url: URL, what: string): Promise<{ url: URL; next: number }> {
  const res = await client.request({ method: 'GET', path: url, scopes: [repoScope(repo, true)], ok: [204], what });
  await res.body.dump();
  return { url: await location(client, res, what), next: rangeEnd(header(res, 'range')) ?? 0 };
}

/** The next offset after a `Range: 0-N` answer (N inclusive); `0-0` with nothing sent is ambiguous, taken as 0 bytes. */
function rangeEnd(range: string | undefined): number | undefined {
  const m = /^(?:bytes=)?0-(\d+)$/.exec(range ?? '');
  if (!m) return undefined;
  const last = Number(m[1]);
  return last === 0 ? 0 : last + 1;
}

function checkDigest(res: HttpResponse, sent: string, display: string): void {
  const answered = header(res, 'docker-content-digest');
  if (answered !== undefined && answered !== sent && answered.startsWith('sha256:')) throw new PushDigestError(display, sent, answered);
}
