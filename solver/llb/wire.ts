// Protobuf wire primitives: varints (64-bit through bigint, so negative int32/int64 become the
// 10-byte two's-complement form Go writes), length-delimited fields and tags.
import { LlbDecodeError } from './errors.js';

export const WireType = { VARINT: 0, I64: 1, LEN: 2, I32: 5 } as const;

export class WireWriter {
  private chunks: Uint8Array[] = [];
  private scratch: number[] = [];

  tag(field: number, wireType: number): void {
    this.varint(BigInt(field) << 3n | BigInt(wireType));
  }

  /** Writes `value` as an unsigned 64-bit varint; negatives wrap to their two's complement. */
  varint(value: bigint): void {
    let v = BigInt.asUintN(64, value);
    const out = this.scratch;
    out.length = 0;
    while (v >= 0x80n) {
      out.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    out.push(Number(v));
    this.chunks.push(Uint8Array.from(out));
  }

  lengthDelimited(bytes: Uint8Array): void {
    this.varint(BigInt(bytes.length));
    this.chunks.push(bytes);
  }

  finish(): Uint8Array {
    return Buffer.concat(this.chunks);
  }
}

export class WireReader {
  pos = 0;
  constructor(private readonly buf: Uint8Array, private readonly what: string) {}

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  varint(): bigint {
    let result = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (this.pos >= this.buf.length) throw this.fail('truncated varint');
      const b = this.buf[this.pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return BigInt.asUintN(64, result);
    }
    throw this.fail('varint longer than 10 bytes');
  }

  lengthDelimited(): Uint8Array {
    const len = Number(this.varint());
    if (this.pos + len > this.buf.length) throw this.fail(`length ${len} runs past the end`);
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  skip(wireType: number): void {
    switch (wireType) {
      case WireType.VARINT: this.varint(); return;
      case WireType.I64: this.advance(8); return;
      case WireType.LEN: this.lengthDelimited(); return;
      case WireType.I32: this.advance(4); return;
      default: throw this.fail(`unsupported wire type ${wireType}`);
    }
  }

  fail(msg: string): LlbDecodeError {
    return new LlbDecodeError(`invalid LLB ${this.what}: ${msg} at byte ${this.pos}; the data is corrupt or not LLB`);
  }

  private advance(n: number): void {
    if (this.pos + n > this.buf.length) throw this.fail('truncated field');
    this.pos += n;
  }
}
