// Recognising compressions, tar streams and archive layouts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { detectArchive, maybeGunzip, peekStream } from '../../exporter/archive-detect.js';
import { looksLikeTar, sniffCompression } from '../../native/archive-sniff.js';
import { ArchiveFormatError } from '../../exporter/errors.js';
import { tarOf } from './image-fixture.js';

test('sniffCompression by magic number', () => {
  assert.equal(sniffCompression(gzipSync('x')), 'gzip');
  assert.equal(sniffCompression(Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 1])), 'zstd');
  assert.equal(sniffCompression(Buffer.from('BZh91AY')), 'bzip2');
  assert.equal(sniffCompression(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])), 'xz');
  assert.equal(sniffCompression(Buffer.from('plain text')), 'none');
  assert.equal(sniffCompression(Buffer.alloc(0)), 'none');
});

test('looksLikeTar: ustar headers and empty archives yes, other bytes no', async () => {
  assert.equal(looksLikeTar(await tarOf([{ name: 'a', body: 'b' }])), true);
  assert.equal(looksLikeTar(Buffer.alloc(1024)), true);
  assert.equal(looksLikeTar(Buffer.alloc(1024, 1)), false);
  assert.equal(looksLikeTar(Buffer.alloc(100)), false);
});

test('detectArchive prefers the OCI side of a combined archive', () => {
  assert.equal(detectArchive(new Set(['index.json', 'manifest.json', 'oci-layout']), 'a.tar'), 'oci');
  assert.equal(detectArchive(new Set(['manifest.json', 'repositories']), 'a.tar'), 'docker');
  assert.throws(() => detectArchive(new Set(['x']), 'a.tar'), ArchiveFormatError);
});

test('peekStream returns the head and a stream with every byte, across small chunks', async () => {
  const parts = ['ab', 'cd', 'efgh', 'ij'].map((s) => Buffer.from(s));
  const { head, stream } = await peekStream(Readable.from(parts), 5);
  assert.equal(head.toString(), 'abcdefgh');
  const all: Buffer[] = [];
  for await (const c of stream) all.push(c as Buffer);
  assert.equal(Buffer.concat(all).toString(), 'abcdefghij');
  const short = await peekStream(Readable.from([Buffer.from('x')]), 10);
  assert.equal(short.head.toString(), 'x');
});

test('maybeGunzip decompresses gzip, passes plain data, refuses the rest by name', async () => {
  const read = async (r: Readable) => {
    const all: Buffer[] = [];
    for await (const c of r) all.push(c as Buffer);
    return Buffer.concat(all).toString();
  };
  const refuse = (c: string) => new Error(`no ${c}`);
  assert.equal(await read((await maybeGunzip(Readable.from([gzipSync('hello')]), refuse)).stream), 'hello');
  assert.equal(await read((await maybeGunzip(Readable.from([Buffer.from('plain')]), refuse)).stream), 'plain');
  await assert.rejects(maybeGunzip(Readable.from([Buffer.from('BZh9rest')]), refuse), /no bzip2/);
});
