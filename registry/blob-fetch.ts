// Blobs from a registry into a sink the caller gives (the store, for kiln): several at a time,
// each streamed and counted as it arrives, hashed by the sink as it writes (once), and committed
// only when size and digest match.
// A dropped download resumes with Range from what arrived, where the registry allows it.
import type { Descriptor } from '../oci/image-spec.js';
import { repoScope } from './auth.js';
import type { RegistryClient } from './client.js';
import { BlobMismatchError, RegistryHttpError } from './errors.js';
import { wasDropped } from './retry.js';
import { header } from './transport.js';

/** Where one blob's bytes go; nothing becomes visible before commit(). */
export interface BlobWriter {
  write(chunk: Buffer): Promise<void>;
  /** Ends the writing, durably; resolves to the sha256 of what was written, `sha256:…`. */
  finish(): Promise<string>;
  /** Drops what was written: the registry restarted the blob from its first byte. */
  reset(): Promise<void>;
  /** Makes the blob visible; called only after finish(), once its size and digest were checked. */
  commit(): Promise<void>;
  abort(): Promise<void>;
}

export interface BlobSink {
  has(digest: string): Promise<boolean>;
  open(desc: Descriptor): Promise<BlobWriter>;
}

export type BlobOutcome = 'fetched' | 'present';

export interface FetchOptions {
  /** Blobs downloaded at once (default 4). */
  concurrency?: number;
  /** Tries for one blob, resumptions included (default 5). */
  attempts?: number;
  onBlob?: (desc: Descriptor, outcome: BlobOutcome) => void;
}

/** Fetches every blob the sink lacks; the first failure stops the rest and is thrown. */
export async function fetchBlobs(client: RegistryClient, repo: string, blobs: readonly Descriptor[], sink: BlobSink, display: string, opts: FetchOptions = {}): Promise<void> {
  const queue = [...new Map(blobs.map((b) => [b.digest, b])).values()];
  let failed: unknown;
  const worker = async (): Promise<void> => {
    for (let b = queue.shift(); b !== undefined && failed === undefined; b = queue.shift()) {
      try {
        const outcome = await fetchBlob(client, repo, b, sink, display, opts.attempts ?? 5);
        opts.onBlob?.(b, outcome);
      } catch (err) {
        failed ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency ?? 4, Math.max(queue.length, 1)) }, worker));
  if (failed !== undefined) throw failed;
}

export async function fetchBlob(client: RegistryClient, repo: string, desc: Descriptor, sink: BlobSink, display: string, attempts = 5): Promise<BlobOutcome> {
  if (await sink.has(desc.digest)) return 'present';
  const writer = await sink.open(desc);
  let written = 0;
  try {
    for (let attempt = 1; ; attempt++) {
      const res = await client.request({
        method: 'GET',
        path: `/v2/${repo}/blobs/${desc.digest}`,
        scopes: [repoScope(repo)],
        headers: written > 0 ? { range: `bytes=${written}-` } : {},
        ok: written > 0 ? [200, 206] : [200],
        what: `fetching blob ${desc.digest} of ${display}`,
      });
      if (written > 0 && (res.status === 200 || !header(res, 'content-range')?.startsWith(`bytes ${written}-`))) {
        // The registry started over (it ignores Range): so does the writer.
        await writer.reset();
        written = 0;
      }
      try {
        for await (const chunk of res.body as AsyncIterable<Buffer>) {
          written += chunk.length;
          if (written > desc.size) throw new BlobMismatchError(display, desc.digest, `more than ${desc.size} bytes`);
          await writer.write(chunk);
        }
      } catch (err) {
        res.body.destroy();
        if (!wasDropped(err) && !isAborted(err)) throw err;
        if (attempt >= attempts) throw new RegistryHttpError(client.host, `fetching blob ${desc.digest}`, 0, `the connection dropped ${attempts} times`);
        continue;
      }
      if (written < desc.size) {
        if (attempt >= attempts) throw new BlobMismatchError(display, desc.digest, `${written} of ${desc.size} bytes`);
        continue;
      }
      const got = await writer.finish();
      if (got !== desc.digest) throw new BlobMismatchError(display, desc.digest, got);
      await writer.commit();
      return 'fetched';
    }
  } catch (err) {
    await writer.abort();
    throw err;
  }
}

/** undici ends a body whose connection closed with a socket or abort error. */
function isAborted(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  return code === 'UND_ERR_ABORTED' || code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'ERR_STREAM_PREMATURE_CLOSE';
}
