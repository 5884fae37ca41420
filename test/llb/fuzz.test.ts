// Property tests (fast-check) of the LLB wire: random ops of every kind marshal to bytes that
// unmarshal to the same op and marshal again to the same bytes (so a vertex's digest is stable
// through a round trip), and mangled bytes are refused only with LlbDecodeError.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { LlbDecodeError } from '../../solver/llb/errors.js';
import { marshalDefinition, marshalOp, unmarshalDefinition, unmarshalOp } from '../../solver/llb/marshal.js';
import type { Op } from '../../solver/llb/types.js';

// Absent means default in proto3, so generated ops leave defaults out (as decoded ops do):
// then "equal op" and "equal bytes" mean the same thing.
const str = fc.string({ minLength: 1, maxLength: 12 });
const posInt = fc.integer({ min: 1, max: 2 ** 31 - 1 });
const opt = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
const strs = fc.array(str, { minLength: 1, maxLength: 3 });
/** A record without the keys whose value is undefined (what a decoded message looks like). */
function compact<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
const record = <T extends Record<string, unknown>>(shape: { [K in keyof T]: fc.Arbitrary<T[K]> }) => fc.record(shape).map(compact);

const platform = record({ architecture: opt(str), os: opt(str), variant: opt(str), osVersion: opt(str), osFeatures: opt(strs) });
const input = record({ digest: opt(str.map((s) => `sha256:${Buffer.from(s).toString('hex')}`)), index: opt(posInt) });
const mount = record({
  input: opt(fc.oneof(posInt, fc.constant(-1))), selector: opt(str), dest: opt(str), output: opt(fc.oneof(posInt, fc.constant(-1))),
  readonly: opt(fc.constant(true)), mountType: opt(fc.integer({ min: 1, max: 4 })),
  cacheOpt: opt(record({ id: opt(str), sharing: opt(fc.integer({ min: 1, max: 2 })) })),
  tmpfsOpt: opt(record({ size: opt(fc.oneof(posInt, fc.bigInt({ min: 2n ** 53n, max: 2n ** 62n }))) })),
});
const exec = record({
  meta: opt(record({ args: opt(strs), env: opt(strs), cwd: opt(str), user: opt(str), hostname: opt(str), validExitCodes: opt(fc.array(posInt, { minLength: 1, maxLength: 3 })) })),
  mounts: opt(fc.array(mount, { minLength: 1, maxLength: 3 })),
  network: opt(fc.integer({ min: 1, max: 2 })),
  security: opt(fc.constant(1)),
});
const source = record({ identifier: opt(str), attrs: opt(fc.dictionary(str, str, { minKeys: 1, maxKeys: 3, noNullPrototype: true })) });
const copy = record({
  src: opt(str), dest: opt(str), mode: opt(posInt), followSymlink: opt(fc.constant(true)), createDestPath: opt(fc.constant(true)),
  allowWildcard: opt(fc.constant(true)), timestamp: opt(fc.oneof(fc.integer({ min: -(2 ** 31), max: -1 }), posInt)),
  includePatterns: opt(strs), excludePatterns: opt(strs), modeStr: opt(str),
});
const action = fc.oneof(
  record({ input: opt(posInt), secondaryInput: opt(fc.oneof(posInt, fc.constant(-1))), output: opt(posInt), copy }),
  record({ input: opt(posInt), output: opt(posInt), mkfile: record({ path: opt(str), mode: opt(posInt), data: opt(fc.uint8Array({ minLength: 1, maxLength: 16 })) }) }),
  record({ input: opt(posInt), output: opt(posInt), mkdir: record({ path: opt(str), mode: opt(posInt), makeParents: opt(fc.constant(true)) }) }),
  record({ input: opt(posInt), rm: record({ path: opt(str), allowNotFound: opt(fc.constant(true)) }) }),
);
const file = record({ actions: opt(fc.array(action, { minLength: 1, maxLength: 3 })) });
const op: fc.Arbitrary<Op> = fc
  .tuple(
    record({ inputs: opt(fc.array(input, { minLength: 1, maxLength: 3 })), platform: opt(platform) }),
    fc.oneof(exec.map((e) => ({ exec: e })), source.map((s) => ({ source: s })), file.map((f) => ({ file: f })), fc.constant({})),
  )
  .map(([common, kind]) => ({ ...common, ...kind }) as Op);

test('an op marshals, unmarshals to itself and marshals to the same bytes', () => {
  fc.assert(
    fc.property(op, (o) => {
      const bytes = marshalOp(o);
      const back = unmarshalOp(bytes);
      assert.deepEqual(back, o);
      assert.deepEqual(marshalOp(back), bytes);
    }),
    { numRuns: 2000, seed: 16 },
  );
});

test('a definition of random ops round-trips byte for byte', () => {
  fc.assert(
    fc.property(fc.array(op, { minLength: 1, maxLength: 5 }), (ops) => {
      const def = { def: ops.map(marshalOp), metadata: {} };
      const bytes = marshalDefinition(def);
      const back = unmarshalDefinition(bytes);
      assert.deepEqual(back.def.map((b) => Buffer.from(b).toString('hex')), def.def.map((b) => Buffer.from(b).toString('hex')));
      assert.deepEqual(marshalDefinition(back), bytes);
    }),
    { numRuns: 500, seed: 16 },
  );
});

test('mangled op bytes decode or are refused with LlbDecodeError, nothing else', () => {
  fc.assert(
    fc.property(op, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), fc.nat(), (o, flips, cut) => {
      const bytes = Buffer.from(marshalOp(o));
      for (const [at, value] of flips) if (bytes.length > 0) bytes[at % bytes.length] = value;
      const mangled = bytes.subarray(0, bytes.length === 0 ? 0 : cut % (bytes.length + 1));
      try {
        unmarshalOp(mangled);
      } catch (err) {
        assert.ok(err instanceof LlbDecodeError, `threw ${(err as Error)?.stack ?? String(err)}`);
      }
    }),
    { numRuns: 3000, seed: 16 },
  );
});
