// Downloads for the http source: GETs (conditional when the store has validators for the URL)
// whose bodies stream through sha256 into <root>/cache/http/<hex>, and the validator record
// <root>/cache/http.json (url → etag, last-modified, digest).
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { HttpSourceError } from './errors.js';
import { writeFileAtomic } from '../../snapshotter/atomic-file.js';
import { Digester } from '../../oci/digest.js';
import { isNoSpace } from '../../snapshotter/disk-full.js';

/** How long a server may stay silent (before the headers, or between body chunks). */
export const HTTP_IDLE_TIMEOUT_MS = 30_000;

export interface Validators {
  etag?: string;
  lastModified?: string;
  /** `sha256:<hex>` of the body these validators describe. */
  digest: string;
}

export interface Downloaded {
  /** The body's file under the cache dir, named by its sha256. */
  file: string;
  /** `sha256:<hex>` */
  digest: string;
  /** Digests in other algorithms asked for (`sha384:…`, `sha512:…`), by algorithm. */
  extra: Record<string, string>;
  validators: Validators;
}

export interface FetchOptions {
  /** Names the build step in errors. */
  step: string;
  signal: AbortSignal;
  /** Send If-None-Match / If-Modified-Since from these; a 304 then answers `'not-modified'`. */
  conditional?: Validators;
  /** Also hash the body with these algorithms (for a --checksum that is not sha256). */
  algorithms?: string[];
  idleTimeoutMs?: number;
}

/** The store's download area and validator record for http sources. */
export class HttpCache {
  readonly dir: string;
  private readonly recordFile: string;
  /** Serialises this process's read-modify-write of the record; across processes the last writer wins, which costs at most a re-download. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(root: string) {
    this.dir = path.join(root, 'cache', 'http');
    this.recordFile = path.join(root, 'cache', 'http.json');
  }

  blobPath(digest: string): string {
    return path.join(this.dir, digest.replace(/^sha256:/, ''));
  }

  async hasBlob(digest: string): Promise<boolean> {
    return (await stat(this.blobPath(digest)).catch(() => undefined))?.isFile() === true;
  }

  async validators(url: string): Promise<Validators | undefined> {
    return (await this.readRecord())[url];
  }

  async remember(url: string, v: Validators): Promise<void> {
    const next = this.queue.then(async () => {
      const all = await this.readRecord();
      all[url] = v;
      await writeFileAtomic(this.recordFile, JSON.stringify(all, null, 1));
    });
    this.queue = next.catch(() => undefined);
    await next;
  }

  private async readRecord(): Promise<Record<string, Validators>> {
    try {
      const parsed: unknown = JSON.parse(await readFile(this.recordFile, 'utf8'));
      return parsed && typeof parsed === 'object' ? (parsed as Record<string, Validators>) : {};
    } catch {
      // Missing or torn: the record is only an optimisation, so start over.
      return {};
    }
  }

  /**
   * GETs `url` into the cache dir. Resolves 'not-modified' on a 304 to a conditional request;
   * rejects with HttpSourceError for an unreachable host, an error status or a silent server,
   * and with the signal's reason when the build is cancelled.
   */
  async fetch(url: string, opts: FetchOptions): Promise<Downloaded | 'not-modified'> {
    const idle = opts.idleTimeoutMs ?? HTTP_IDLE_TIMEOUT_MS;
    const timeout = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const arm = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => timeout.abort(new Error('idle timeout')), idle);
    };
    const signal = AbortSignal.any([opts.signal, timeout.signal]);
    const headers: Record<string, string> = {};
    if (opts.conditional?.etag) headers['if-none-match'] = opts.conditional.etag;
    if (opts.conditional?.lastModified) headers['if-modified-since'] = opts.conditional.lastModified;
    await mkdir(this.dir, { recursive: true });
    const tmp = path.join(this.dir, `.tmp-${randomBytes(8).toString('hex')}`);
    const fail = (err: unknown): never => {
      opts.signal.throwIfAborted();
      if (timeout.signal.aborted) throw new HttpSourceError(opts.step, url, `the server sent nothing for ${idle / 1000} s; try again, or check that it is up`);
      if (err instanceof HttpSourceError) throw err;
      // Writing the download into the store can fill its disk: that is no fault of the URL, and the solve names the device.
      if (isNoSpace(err)) throw err;
      throw new HttpSourceError(opts.step, url, `${describeNetworkError(err)}; check the URL and that the host is reachable from this machine`);
    };
    try {
      arm();
      let res: Response;
      try {
        res = await fetch(url, { headers, signal, redirect: 'follow' });
      } catch (err) {
        return fail(err);
      }
      if (res.status === 304 && opts.conditional) {
        await res.body?.cancel();
        return 'not-modified';
      }
      if (!res.ok || !res.body) {
        await res.body?.cancel();
        throw new HttpSourceError(opts.step, url, `the server answered HTTP ${res.status}${res.statusText ? ' ' + res.statusText : ''}`);
      }
      const sha256 = new Digester();
      const others = (opts.algorithms ?? []).filter((a) => a !== 'sha256').map((a) => [a, createHash(a)] as const);
      const hashing = new Transform({
        transform(chunk: Buffer, _enc, done) {
          arm();
          sha256.update(chunk);
          for (const [, h] of others) h.update(chunk);
          done(null, chunk);
        },
      });
      try {
        await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>), hashing, createWriteStream(tmp), { signal });
      } catch (err) {
        return fail(err);
      }
      const digest = sha256.digest();
      const file = this.blobPath(digest);
      await rename(tmp, file);
      const validators: Validators = { digest };
      const etag = res.headers.get('etag');
      const lastModified = res.headers.get('last-modified');
      if (etag) validators.etag = etag;
      if (lastModified) validators.lastModified = lastModified;
      return { file, digest, extra: Object.fromEntries(others.map(([a, h]) => [a, `${a}:${h.digest('hex')}`])), validators };
    } finally {
      clearTimeout(timer);
      await rm(tmp, { force: true });
    }
  }
}

/** fetch() reports network failures as TypeError('fetch failed') with the system error as its cause. */
function describeNetworkError(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } } | undefined)?.cause;
  if (cause?.code) return !cause.message ? cause.code : cause.message.includes(cause.code) ? cause.message : `${cause.code} (${cause.message})`;
  // fetch's own refusals (a port on the spec's blocked list) carry only a message.
  if (cause?.message) return cause.message;
  return (err as Error)?.message ?? String(err);
}
