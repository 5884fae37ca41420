// The deterministic marshal: exact bytes written out by hand from the wire rules, defaults left
// out, map order, negative varints, oneof presence, and decoding back (including bad input).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { image } from '../../solver/llb/builder.js';
import { LlbBuildError, LlbDecodeError } from '../../solver/llb/errors.js';
import { marshalDefinition, marshalOp, opDigest, unmarshalDefinition, unmarshalOp } from '../../solver/llb/marshal.js';
import type { Op } from '../../solver/llb/types.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const ascii = (s: string): number[] => [...Buffer.from(s, 'latin1')];

test('a docker-image source op has the bytes assembled by hand from the field numbers', () => {
  const id = 'docker-image://docker.io/library/busybox:latest'; // 47 bytes
  // Go writes oneof members (the op type) after the other fields, whatever their numbers.
  const expected = Uint8Array.from([
    0x52, 14, //                     Op.platform (10, LEN), 14 bytes
    0x0a, 5, ...ascii('amd64'), //   Platform.Architecture (1)
    0x12, 5, ...ascii('linux'), //   Platform.OS (2)
    0x5a, 0, //                      Op.constraints (11, LEN): set, empty, still written
    0x1a, 49, //                     Op.source (3, LEN), 49 bytes
    0x0a, 47, ...ascii(id), //       SourceOp.identifier (1, LEN)
  ]);
  const out = image('docker.io/library/busybox:latest', { platform: { os: 'linux', architecture: 'amd64' } });
  assert.equal(hex(out.vertex.marshal()), hex(expected));
  assert.equal(out.digest(), 'sha256:' + createHash('sha256').update(expected).digest('hex'));
  assert.equal(opDigest(expected), out.digest());
});

test('negative int64 is a 10-byte varint; index 0 and false are left out', () => {
  const op: Op = { exec: { mounts: [{ input: -1, output: 0, readonly: false, dest: '/' }] } };
  const expected = [
    0x12, 16, //                                      Op.exec (2)
    0x12, 14, //                                      ExecOp.mounts (2)
    0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, // Mount.input = -1
    0x1a, 1, 0x2f, //                                 Mount.dest = "/"
  ];
  assert.equal(hex(marshalOp(op)), hex(Uint8Array.from(expected)));
});

test('an int32 mode of -1 is sign-extended to 10 bytes like Go', () => {
  const bytes = marshalOp({ file: { actions: [{ copy: { mode: -1 } }] } });
  // Op.file(4) → FileOp.actions(2) → FileAction.copy(4) → FileActionCopy.mode(4)
  assert.equal(hex(bytes), '220f' + '120d' + '220b' + '20ffffffffffffffffff01');
});

test('defaults are omitted: explicit zero values marshal like absent fields', () => {
  const bare: Op = { exec: { meta: { args: ['true'], cwd: '/' }, mounts: [{ dest: '/' }] } };
  const noisy: Op = {
    inputs: [],
    exec: {
      meta: { args: ['true'], cwd: '/', env: [], user: '', hostname: '', removeMountStubsRecursive: false, validExitCodes: [] },
      mounts: [{ dest: '/', input: 0, output: 0, readonly: false, selector: '', mountType: 0, contentCache: 0 }],
      network: 0,
      security: 0,
      secretEnv: [],
    },
  };
  assert.equal(hex(marshalOp(noisy)), hex(marshalOp(bare)));
  // ...while a set but empty sub-message is not a default.
  assert.notEqual(hex(marshalOp({ ...bare, constraints: {} })), hex(marshalOp(bare)));
});

test('a oneof member holding its default is still written (byID 0 is root)', () => {
  const bytes = marshalOp({ file: { actions: [{ mkdir: { owner: { user: { byId: 0 } } } }] } });
  // FileAction.mkdir(6) → MkDir.owner(4) → ChownOpt.user(1) → UserOpt.byID(2) = 0
  assert.ok(hex(bytes).endsWith('3206' + '2204' + '0a02' + '1000'), hex(bytes));
});

test('map entries are sorted by key bytes, whatever the insertion order (integer-like keys too)', () => {
  const a = marshalOp({ source: { identifier: 'x', attrs: { b: '1', '10': 'x', a: '2', '2': 'y' } } });
  const b = marshalOp({ source: { identifier: 'x', attrs: { '2': 'y', a: '2', '10': 'x', b: '1' } } });
  assert.equal(hex(a), hex(b));
  const keys = Object.keys(unmarshalOp(a).source!.attrs!);
  assert.deepEqual(keys.sort(), ['10', '2', 'a', 'b']);
  // Wire order: "10" < "2" < "a" < "b" as bytes, so "10" comes first although JS would list "2" first.
  const at = (k: string): number => Buffer.from(a).indexOf(Buffer.from([0x0a, k.length, ...ascii(k)]));
  assert.ok(at('10') < at('2') && at('2') < at('a') && at('a') < at('b'));
});

test('map entries carry both key and value even when the value is empty', () => {
  const bytes = marshalOp({ source: { identifier: 'x', attrs: { k: '' } } });
  assert.ok(hex(bytes).endsWith('1205' + '0a016b' + '1200'), hex(bytes));
});

test('a changed field changes the digest', () => {
  const d = (op: Op): string => opDigest(marshalOp(op));
  const base: Op = { source: { identifier: 'docker-image://docker.io/library/alpine:latest' }, constraints: {} };
  assert.notEqual(d(base), d({ ...base, source: { identifier: 'docker-image://docker.io/library/alpine:3.20' } }));
  assert.notEqual(d(base), d({ ...base, platform: { architecture: 'arm64', os: 'linux' } }));
  assert.notEqual(d(base), d({ ...base, source: { ...base.source, attrs: { 'image.resolvemode': 'pull' } } }));
});

test('unmarshalOp gives back every field, timestamps beyond 2^53 as bigint', () => {
  const op: Op = {
    inputs: [{ digest: 'sha256:' + 'a'.repeat(64), index: 2 }],
    file: {
      actions: [{
        input: 0, secondaryInput: 1, output: 0,
        copy: {
          src: '/a', dest: '/b/', mode: -1, timestamp: 1_700_000_000_123_456_789n, followSymlink: true,
          includePatterns: ['*.go'], excludePatterns: ['vendor'], requiredPaths: ['go.mod'], modeStr: 'u+x',
          owner: { user: { byName: { name: 'app', input: 0 } }, group: { byId: 1000 } },
        },
      }],
    },
    constraints: { filter: ['worker=a'] },
    platform: { architecture: 'arm', os: 'linux', variant: 'v7', osVersion: '1', osFeatures: ['x'] },
  };
  const back = unmarshalOp(marshalOp(op));
  // Defaults (index 0 of input, input 0 of action and of the name lookup) come back absent.
  const expected = structuredClone(op);
  delete expected.file!.actions![0]!.input;
  delete expected.file!.actions![0]!.output;
  delete expected.file!.actions![0]!.copy!.owner!.user!.byName!.input;
  assert.deepEqual(back, expected);
  assert.equal(typeof back.file!.actions![0]!.copy!.timestamp, 'bigint');
  assert.equal(hex(marshalOp(back)), hex(marshalOp(op)));
});

test('Definition round-trips: ops, metadata and source', () => {
  const ops = [
    marshalOp({ source: { identifier: 'local://context' }, constraints: {} }),
    marshalOp({ inputs: [{ digest: 'sha256:x' }] }),
  ];
  const def = {
    def: ops,
    metadata: {
      [opDigest(ops[0]!)]: { description: { 'llb.customname': 'load context' }, ignoreCache: true, progressGroup: { id: 'g', name: 'G' } },
      [opDigest(ops[1]!)]: { caps: { constraints: true, platform: true } },
    },
    source: { infos: [{ filename: 'Dockerfile', data: new TextEncoder().encode('FROM scratch\n'), language: 'Dockerfile' }] },
  };
  const back = unmarshalDefinition(marshalDefinition(def));
  assert.deepEqual(back.def.map(hex), ops.map(hex));
  assert.deepEqual(back.metadata, def.metadata);
  assert.deepEqual(back.source, def.source);
  assert.deepEqual(unmarshalDefinition(new Uint8Array(0)), { def: [], metadata: {} });
});

test('bad bytes are a typed decode error, not garbage', () => {
  const good = marshalOp({ source: { identifier: 'docker-image://x' } });
  assert.throws(() => unmarshalOp(good.subarray(0, good.length - 2)), (e: unknown) => e instanceof LlbDecodeError && e.code === 'KILN_LLB_DECODE');
  // Field 9 of Op is unknown to our schema: refusing beats running an op with a part unseen.
  assert.throws(() => unmarshalOp(Uint8Array.from([0x48, 0x01])), /pb\.Op has no field 9/);
  // Invalid UTF-8 in a string field.
  assert.throws(() => unmarshalOp(Uint8Array.from([0x1a, 0x03, 0x0a, 0x01, 0xff])), LlbDecodeError);
});

test('marshalOp refuses what the schema cannot hold', () => {
  assert.throws(() => marshalOp({ exec: {}, source: {} }), (e: unknown) => e instanceof LlbBuildError && /oneof 'op'/.test(e.message));
  assert.throws(() => marshalOp({ exec: { mounts: [{ readOnly: true } as never] } }), /unknown field 'readOnly'/);
  assert.throws(() => marshalOp({ exec: { meta: { validExitCodes: [2 ** 31] } } }), /out of range for int32/);
  assert.throws(() => marshalOp({ exec: { mounts: [{ input: 1.5 }] } }), /expected an integer/);
});
