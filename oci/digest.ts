// Content digests as the OCI spec writes them, `sha256:<64 lowercase hex>`: checked, made from
// bytes, or made while bytes stream past. Hashing only; no I/O.
import { createHash, type Hash } from 'node:crypto';
import { InvalidDigestError } from './errors.js';

export const DIGEST_PATTERN = /^sha256:[a-f0-9]{64}$/;
const HEX_PATTERN = /^[a-f0-9]{64}$/;

export function isDigest(value: string): boolean {
  return DIGEST_PATTERN.test(value);
}

/** 64 lowercase hex digits: a digest without its algorithm, as blob file names and image IDs are. */
export function isDigestHex(value: string): boolean {
  return HEX_PATTERN.test(value);
}

/** `value` if it is a digest; else a typed error naming it. */
export function checkDigest(value: string): string {
  if (!isDigest(value)) throw new InvalidDigestError(value);
  return value;
}

/** The hex part of a digest. */
export function digestHex(digest: string): string {
  return checkDigest(digest).slice('sha256:'.length);
}

export function sha256Digest(data: string | Uint8Array): string {
  return 'sha256:' + createHash('sha256').update(data).digest('hex');
}

/** A digest computed while bytes stream past (a tar being written, a download). */
export class Digester {
  private readonly hash: Hash = createHash('sha256');

  update(chunk: string | Uint8Array): this {
    this.hash.update(chunk);
    return this;
  }

  digest(): string {
    return 'sha256:' + this.hash.digest('hex');
  }
}
