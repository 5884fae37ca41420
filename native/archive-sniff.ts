// What a file or stream holds, by its first bytes: gzip, zstd, bzip2, xz or none by magic
// number, and whether it is a tar, for load/import (ADD's archives are sniffed by the addon's
// archiveCompression, next to the extraction).
import { open } from 'node:fs/promises';

export type Compression = 'gzip' | 'zstd' | 'bzip2' | 'xz' | 'none';

export function sniffCompression(head: Uint8Array): Compression {
  const starts = (...magic: number[]) => magic.every((b, i) => head[i] === b);
  if (starts(0x1f, 0x8b)) return 'gzip';
  if (starts(0x28, 0xb5, 0x2f, 0xfd)) return 'zstd';
  if (starts(0x42, 0x5a, 0x68)) return 'bzip2';
  if (starts(0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00)) return 'xz';
  return 'none';
}

/** The first `n` bytes of a file (fewer when it is shorter). */
export async function readFileHead(file: string, n: number): Promise<Buffer> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(n);
    const { bytesRead } = await fh.read(buf, 0, n, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** A tar stream's first header block carries "ustar" at offset 257; an empty tar is all zeros. */
export function looksLikeTar(head: Uint8Array): boolean {
  if (head.length < 512) return false;
  if (Buffer.from(head.subarray(257, 262)).toString('latin1') === 'ustar') return true;
  return head.subarray(0, 512).every((b) => b === 0);
}
