// ADD's Docker compatibility: a local tar archive (plain, gzip, bzip2, xz or zstd, told apart by
// magic bytes) is extracted into the destination instead of copied, never writing outside it.
import { spawn, type ChildProcess } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, lchown, link, lstat, lutimes, mkdir, rm, symlink } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { readFileHead, sniffCompression, type Compression } from '../../native/archive-sniff.js';
import { ArchiveEscapeError } from './errors.js';
import { asCopyFailure } from './copy-failure.js';
import { isWithin, resolveInRoot } from './root-path.js';
import type { Owner } from './file-owner.js';

const DECOMPRESSORS: Record<Exclude<Compression, 'none'>, string> = { gzip: 'gzip', bzip2: 'bzip2', xz: 'xz', zstd: 'zstd' };

function compressionOf(head: Buffer): Compression | undefined {
  const c = sniffCompression(head);
  return c !== 'none' ? c : isTarHeader(head) ? 'none' : undefined;
}

/** A ustar/GNU header, or a v7 one whose checksum adds up. */
function isTarHeader(h: Buffer): boolean {
  if (h.length < 512) return false;
  if (h.subarray(257, 262).toString('latin1') === 'ustar') return true;
  const stored = parseInt(h.subarray(148, 156).toString('latin1').replace(/\0.*$/s, '').trim(), 8);
  if (!Number.isFinite(stored)) return false;
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
  return sum === stored;
}

function decompressed(file: string, compression: Compression): { stream: Readable; child?: ChildProcess } {
  if (compression === 'none') return { stream: createReadStream(file) };
  const child = spawn(DECOMPRESSORS[compression], ['-dc', file], { stdio: ['ignore', 'pipe', 'ignore'] });
  return { stream: child.stdout!, child };
}

async function firstBytes(stream: Readable, n: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let got = 0;
  for await (const c of stream) {
    chunks.push(c as Buffer);
    got += (c as Buffer).length;
    if (got >= n) break;
  }
  stream.destroy();
  return Buffer.concat(chunks).subarray(0, n);
}

/** The archive's compression when `file` is a tar (possibly compressed); undefined for anything else. */
export async function archiveCompression(file: string): Promise<Compression | undefined> {
  const c = compressionOf(await readFileHead(file, 512));
  if (c === undefined || c === 'none') return c;
  const { stream, child } = decompressed(file, c);
  try {
    return isTarHeader(await firstBytes(stream, 512)) ? c : undefined;
  } finally {
    child?.kill();
  }
}

export interface ExtractOptions {
  step: string;
  /** The container's root: links inside the archive are resolved against it. */
  root: string;
  /** Host path of the destination directory, already resolved inside `root`. */
  dest: string;
  owner?: Owner;
  /** Seconds since the epoch, replacing each entry's own mtime. */
  mtime?: number;
}

/** Extracts `file` into `opts.dest`, refusing any entry (by `..` or through a link) that lands outside. */
export async function extractArchive(file: string, compression: Compression, opts: ExtractOptions): Promise<void> {
  await mkdir(opts.dest, { recursive: true });
  const destRel = '/' + path.relative(opts.root, opts.dest);
  const { stream, child } = decompressed(file, compression);
  const extract = tar.extract();
  const feeding = pipeline(stream, extract).catch((err: unknown) => err);
  // Writing into a directory moves its mtime: directories get theirs once everything is in.
  const dirTimes: [string, number][] = [];
  try {
    for await (const entry of extract) {
      const h = entry.header;
      const name = path.posix.normalize('/' + h.name).replace(/\/+$/, '');
      if (name === '/') {
        entry.resume();
        continue;
      }
      const parent = await resolveInRoot(opts.root, path.posix.join(destRel, path.posix.dirname(name)));
      const target = path.join(parent, path.posix.basename(name));
      if (!isWithin(opts.dest, parent) || !isWithin(opts.dest, target)) throw new ArchiveEscapeError(opts.step, path.basename(file), h.name);
      await mkdir(parent, { recursive: true });
      const existing = await lstat(target).catch(() => undefined);
      if (existing && !(existing.isDirectory() && h.type === 'directory')) await rm(target, { recursive: true, force: true });
      const mode = (h.mode ?? 0o644) & 0o7777;
      switch (h.type) {
        case 'directory':
          await mkdir(target, { recursive: true });
          await chmod(target, mode);
          entry.resume();
          break;
        case 'symlink':
          await symlink(h.linkname ?? '', target);
          entry.resume();
          break;
        case 'link': {
          const linked = await resolveInRoot(opts.root, path.posix.join(destRel, path.posix.normalize('/' + (h.linkname ?? ''))), { followLast: false });
          if (!isWithin(opts.dest, linked)) throw new ArchiveEscapeError(opts.step, path.basename(file), h.name);
          await link(linked, target);
          entry.resume();
          continue;
        }
        case 'file':
        case 'contiguous-file':
        case null:
        case undefined:
          await pipeline(entry, createWriteStream(target, { mode }));
          await chmod(target, mode);
          break;
        default:
          // Devices and fifos need privileges an archive should not get from ADD; Docker skips them too in rootless mode.
          entry.resume();
          continue;
      }
      await lchown(target, opts.owner?.uid ?? h.uid ?? 0, opts.owner?.gid ?? h.gid ?? 0);
      const when = opts.mtime ?? (h.mtime ? h.mtime.getTime() / 1000 : 0);
      await lutimes(target, when, when);
      if (h.type === 'directory') dirTimes.push([target, when]);
    }
    const failed = await feeding;
    if (failed instanceof Error) throw failed;
    for (const [dir, when] of dirTimes.reverse()) await lutimes(dir, when, when);
  } catch (err) {
    // tar-stream reports a broken archive (truncated, bad header) as a plain Error, and a hard
    // link to an entry it lacks fails ENOENT: the user's file. A TypeError or RangeError is ours.
    throw asCopyFailure(opts.step, err, (e, errno) => errno === 'ENOENT' || (errno === undefined && Object.getPrototypeOf(e) === Error.prototype));
  } finally {
    stream.destroy();
    child?.kill();
  }
}
