// The http source (ADD of an http:// or https:// URL): one downloaded file in a snapshot of its
// own, keyed by its pinned checksum or, unpinned, by the digest of what the server sends now.
import { constants } from 'node:fs';
import { chmod, copyFile, lchown, rm, utimes } from 'node:fs/promises';
import path from 'node:path';
import type { OpExecutor, SolveEnv, VertexInfo } from '../types.js';
import { HttpChecksumMismatchError, HttpSourceError } from './errors.js';
import { HttpCache, type Downloaded } from './http-fetch.js';
import { SnapshotWork } from './snapshot-work.js';

/** BuildKit's mode for a downloaded file when http.perm is not set. */
const DEFAULT_PERM = 0o600;
const ALGORITHMS: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };

interface HttpSpec {
  url: string;
  checksum?: string;
  filename: string;
  perm: number;
  uid: number;
  gid: number;
}

function spec(v: VertexInfo): HttpSpec {
  const url = v.op.source?.identifier ?? '';
  const attrs = v.op.source?.attrs ?? {};
  const checksum = attrs['http.checksum'];
  if (checksum !== undefined) {
    const [algo, hex] = checksum.split(':', 2);
    if (!algo || !(algo in ALGORITHMS) || !hex || !new RegExp(`^[a-f0-9]{${ALGORITHMS[algo]}}$`).test(hex)) {
      throw new HttpSourceError(v.name, url, `--checksum ${checksum} is not a digest; write it as sha256:<64 hex digits>`);
    }
  }
  const int = (name: string, fallback: number): number => {
    const text = attrs[name];
    if (text === undefined || text === '') return fallback;
    // Go's ParseInt with base 0, as BuildKit reads these: a leading 0 (or 0o) means octal.
    const n = /^0o?[0-7]+$/i.test(text) ? parseInt(text.replace(/^0o/i, ''), 8) : /^\d+$/.test(text) ? Number(text) : NaN;
    if (!Number.isSafeInteger(n)) throw new HttpSourceError(v.name, url, `source attribute ${name}="${text}" is not a number`);
    return n;
  };
  let filename = attrs['http.filename'] || path.posix.basename(new URL(url).pathname) || '__unnamed__';
  if (filename === '/' || filename === '.' || filename === '..' || filename.includes('/')) filename = '__unnamed__';
  return { url, checksum, filename, perm: int('http.perm', DEFAULT_PERM) & 0o7777, uid: int('http.uid', 0), gid: int('http.gid', 0) };
}

function algorithmOf(checksum: string | undefined): string[] {
  return checksum ? [checksum.split(':')[0]!] : [];
}

/** The body by its digest, from an earlier download when the cache still has it. */
async function download(cache: HttpCache, s: HttpSpec, v: VertexInfo, env: SolveEnv): Promise<Downloaded> {
  const got = await cache.fetch(s.url, { step: v.name, signal: env.signal, algorithms: algorithmOf(s.checksum) });
  if (got === 'not-modified') throw new HttpSourceError(v.name, s.url, 'the server answered 304 Not Modified to a plain GET');
  await cache.remember(s.url, got.validators);
  return got;
}

function checksumOf(got: Downloaded, checksum: string): string {
  const algo = checksum.split(':')[0]!;
  return algo === 'sha256' ? got.digest : got.extra[algo]!;
}

export const httpSource: OpExecutor = {
  async contentKey(v, env) {
    const s = spec(v);
    // A pinned download is known by its checksum, so a cached build never asks the server.
    if (s.checksum) return s.checksum;
    const cache = new HttpCache(env.root);
    const known = await cache.validators(s.url);
    const conditional = known && (known.etag || known.lastModified) ? known : undefined;
    const got = await cache.fetch(s.url, { step: v.name, signal: env.signal, ...(conditional ? { conditional } : {}) });
    if (got === 'not-modified') return conditional!.digest;
    if (known && known.digest !== got.digest) await rm(cache.blobPath(known.digest), { force: true });
    await cache.remember(s.url, got.validators);
    return got.digest;
  },

  async run(v, _inputs, env) {
    const s = spec(v);
    const cache = new HttpCache(env.root);
    // contentKey of an unpinned source has just downloaded the body; use it rather than fetch twice.
    const known = s.checksum ? undefined : await cache.validators(s.url);
    let file: string;
    let digest: string;
    let lastModified: string | undefined;
    if (known && (await cache.hasBlob(known.digest))) {
      file = cache.blobPath(known.digest);
      digest = known.digest;
      lastModified = known.lastModified;
    } else {
      const got = await download(cache, s, v, env);
      if (s.checksum) {
        const actual = checksumOf(got, s.checksum);
        if (actual !== s.checksum) {
          await rm(got.file, { force: true });
          throw new HttpChecksumMismatchError(v.name, s.url, s.checksum, actual);
        }
      }
      file = got.file;
      digest = got.digest;
      lastModified = got.validators.lastModified;
    }

    const work = new SnapshotWork(env.snapshotter, v.digest);
    const keep = new Set<string>();
    try {
      const { key, dir } = await work.active(null);
      const to = path.join(dir, s.filename);
      await copyFile(file, to, constants.COPYFILE_FICLONE);
      await chmod(to, s.perm);
      await lchown(to, s.uid, s.gid);
      // As BuildKit: the server's Last-Modified becomes the file's mtime.
      const when = lastModified ? new Date(lastModified) : undefined;
      if (when && !Number.isNaN(when.getTime())) await utimes(to, when, when);
      const snapshot = await work.commit(key);
      keep.add(snapshot);
      env.signal.throwIfAborted();
      return [{ snapshot }];
    } finally {
      await work.cleanup(keep);
      // The snapshot holds the bytes now; the validators still answer the next conditional GET.
      await rm(cache.blobPath(digest), { force: true });
    }
  },
};
