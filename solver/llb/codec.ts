// Deterministic proto3 encoding and sparse decoding of plain objects, driven by the protobufjs
// reflection of ops.proto.
//
// We encode ourselves rather than with protobufjs's generated encoder because digests need
// the exact bytes of Go's `proto.MarshalOptions{Deterministic: true}`: fields in number order,
// map entries sorted by key bytes (a JS object iterates integer-like keys first), proto3
// defaults left out while a set sub-message or oneof member is written even when empty, and
// negative int32/int64 as 10-byte varints.
import protobuf from 'protobufjs';
import { LlbBuildError } from './errors.js';
import { WireReader, WireType, WireWriter } from './wire.js';

type Obj = Record<string, unknown>;
type Kind = 'string' | 'bytes' | 'bool' | 'int32' | 'uint32' | 'int64' | 'enum' | 'message';

interface FieldPlan {
  id: number;
  js: string;
  kind: Kind;
  repeated: boolean;
  /** Map fields: the kind of the value (keys are strings throughout our schema). */
  map?: { valueKind: Kind; valueType?: protobuf.Type };
  type?: protobuf.Type;
  oneof?: string;
  /** int64 fields that may exceed 2^53 (timestamps, sizes) and so may be bigints. */
  wide: boolean;
}

interface Plan {
  name: string;
  fields: FieldPlan[];
  byId: Map<number, FieldPlan>;
  byJs: Map<string, FieldPlan>;
  oneofs: Map<string, FieldPlan[]>;
}

const NAME_OVERRIDES: Record<string, string> = { secretenv: 'secretEnv' };
const WIDE_INT64 = new Set(['timestamp', 'size', 'Soft', 'Hard']);
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** `OSVersion` → `osVersion`, `resultID` → `resultId`, `ignore_cache` → `ignoreCache`. */
export function jsName(protoName: string): string {
  const override = NAME_OVERRIDES[protoName];
  if (override) return override;
  const words = protoName.split('_').flatMap((part) => part.match(/[A-Z]+(?![a-z])|[A-Z]?[a-z0-9]+/g) ?? []);
  return words
    .map((w, i) => (i === 0 ? w.toLowerCase() : w[0]!.toUpperCase() + w.slice(1).toLowerCase()))
    .join('');
}

const plans = new WeakMap<protobuf.Type, Plan>();

function kindOf(field: protobuf.Field, typeName: string): Kind {
  if (['string', 'bytes', 'bool', 'int32', 'uint32', 'int64'].includes(typeName)) return typeName as Kind;
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf.Enum) return 'enum';
  if (resolved instanceof protobuf.Type) return 'message';
  throw new Error(`ops.proto: field ${field.fullName} has type ${typeName}, which the LLB codec does not handle`);
}

function planOf(type: protobuf.Type): Plan {
  const cached = plans.get(type);
  if (cached) return cached;
  // Go's protobuf runtime writes oneof members after all other fields ("to preserve
  // compatibility with historic wire output"), so Op is inputs, platform, constraints, then its
  // op type; digests match BuildKit's only in that order.
  const fields = type.fieldsArray
    .slice()
    .sort((a, b) => Number(a.partOf !== null) - Number(b.partOf !== null) || a.id - b.id)
    .map((f): FieldPlan => {
      const plan: FieldPlan = {
        id: f.id,
        js: jsName(f.name),
        kind: 'message',
        repeated: f.repeated,
        oneof: f.partOf?.name,
        wide: WIDE_INT64.has(f.name),
      };
      if (f.map) {
        const valueKind = kindOf(f, f.type);
        plan.map = { valueKind, valueType: f.resolvedType instanceof protobuf.Type ? f.resolvedType : undefined };
        return plan;
      }
      plan.kind = kindOf(f, f.type);
      if (f.resolvedType instanceof protobuf.Type) plan.type = f.resolvedType;
      return plan;
    });
  const oneofs = new Map<string, FieldPlan[]>();
  for (const f of fields) if (f.oneof) oneofs.set(f.oneof, [...(oneofs.get(f.oneof) ?? []), f]);
  const plan: Plan = {
    name: type.name,
    fields,
    byId: new Map(fields.map((f) => [f.id, f])),
    byJs: new Map(fields.map((f) => [f.js, f])),
    oneofs,
  };
  plans.set(type, plan);
  return plan;
}

// ---- encoding ----

export function encodeMessage(type: protobuf.Type, obj: Obj, where = type.name): Uint8Array {
  const plan = planOf(type);
  for (const key of Object.keys(obj)) {
    if (!plan.byJs.has(key) && obj[key] !== undefined) {
      throw new LlbBuildError(`${where}: unknown field '${key}' for pb.${plan.name}`);
    }
  }
  for (const [name, members] of plan.oneofs) {
    const set = members.filter((m) => obj[m.js] !== undefined);
    if (set.length > 1) {
      throw new LlbBuildError(`${where}: oneof '${name}' has ${set.map((m) => m.js).join(' and ')} set; only one may be`);
    }
  }
  const w = new WireWriter();
  for (const f of plan.fields) {
    const value = obj[f.js];
    if (value === undefined || value === null) continue;
    const at = `${where}.${f.js}`;
    if (f.map) encodeMap(w, f, value, at);
    else if (f.repeated) encodeRepeated(w, f, value, at);
    else if (f.kind === 'message') {
      w.tag(f.id, WireType.LEN);
      w.lengthDelimited(encodeMessage(f.type!, asObject(value, at), at));
    } else {
      // A oneof member has presence in proto3: it is written even when it holds the default.
      if (!f.oneof && isDefault(f.kind, value, at)) continue;
      writeScalar(w, f.id, f.kind, value, at);
    }
  }
  return w.finish();
}

function encodeMap(w: WireWriter, f: FieldPlan, value: unknown, at: string): void {
  const entries = Object.entries(asObject(value, at)).filter(([, v]) => v !== undefined);
  // Go sorts string keys by their bytes; compare UTF-8 so non-ASCII keys order the same way.
  const keyed = entries.map(([k, v]) => [Buffer.from(k, 'utf8'), k, v] as const);
  keyed.sort((a, b) => Buffer.compare(a[0], b[0]));
  for (const [, key, v] of keyed) {
    const entry = new WireWriter();
    // Go writes both key and value of every entry, defaults included.
    writeScalar(entry, 1, 'string', key, `${at}[${key}]`);
    if (f.map!.valueKind === 'message') {
      entry.tag(2, WireType.LEN);
      entry.lengthDelimited(encodeMessage(f.map!.valueType!, asObject(v, `${at}[${key}]`), `${at}[${key}]`));
    } else {
      writeScalar(entry, 2, f.map!.valueKind, v, `${at}[${key}]`);
    }
    w.tag(f.id, WireType.LEN);
    w.lengthDelimited(entry.finish());
  }
}

function encodeRepeated(w: WireWriter, f: FieldPlan, value: unknown, at: string): void {
  if (!Array.isArray(value)) throw new LlbBuildError(`${at}: expected an array`);
  if (value.length === 0) return;
  if (isPackable(f.kind)) {
    // proto3 packs repeated numeric fields into one length-delimited run.
    const packed = new WireWriter();
    value.forEach((v, i) => packed.varint(varintValue(f.kind, v, `${at}[${i}]`)));
    w.tag(f.id, WireType.LEN);
    w.lengthDelimited(packed.finish());
    return;
  }
  value.forEach((v, i) => {
    const ati = `${at}[${i}]`;
    if (f.kind === 'message') {
      w.tag(f.id, WireType.LEN);
      w.lengthDelimited(encodeMessage(f.type!, asObject(v, ati), ati));
    } else {
      writeScalar(w, f.id, f.kind, v, ati);
    }
  });
}

function isPackable(kind: Kind): boolean {
  return kind === 'bool' || kind === 'int32' || kind === 'uint32' || kind === 'int64' || kind === 'enum';
}

function writeScalar(w: WireWriter, id: number, kind: Kind, value: unknown, at: string): void {
  if (kind === 'string') {
    if (typeof value !== 'string') throw new LlbBuildError(`${at}: expected a string`);
    w.tag(id, WireType.LEN);
    w.lengthDelimited(Buffer.from(value, 'utf8'));
  } else if (kind === 'bytes') {
    if (!(value instanceof Uint8Array)) throw new LlbBuildError(`${at}: expected a Uint8Array`);
    w.tag(id, WireType.LEN);
    w.lengthDelimited(value);
  } else {
    w.tag(id, WireType.VARINT);
    w.varint(varintValue(kind, value, at));
  }
}

function varintValue(kind: Kind, value: unknown, at: string): bigint {
  if (kind === 'bool') {
    if (typeof value !== 'boolean') throw new LlbBuildError(`${at}: expected a boolean`);
    return value ? 1n : 0n;
  }
  const n = typeof value === 'bigint' ? value : typeof value === 'number' && Number.isInteger(value) ? BigInt(value) : undefined;
  if (n === undefined) throw new LlbBuildError(`${at}: expected an integer, got ${String(value)}`);
  const [min, max] = kind === 'uint32' ? [0n, 0xffffffffn] : kind === 'int64' ? [-(2n ** 63n), 2n ** 63n - 1n] : [-(2n ** 31n), 2n ** 31n - 1n];
  if (n < min || n > max) throw new LlbBuildError(`${at}: ${n} is out of range for ${kind}`);
  return n;
}

function isDefault(kind: Kind, value: unknown, at: string): boolean {
  switch (kind) {
    case 'string': return value === '';
    case 'bytes': return value instanceof Uint8Array && value.length === 0;
    case 'bool': return value === false;
    default: return varintValue(kind, value, at) === 0n;
  }
}

function asObject(value: unknown, at: string): Obj {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array) {
    throw new LlbBuildError(`${at}: expected an object`);
  }
  return value as Obj;
}

// ---- decoding ----

/**
 * Decodes into a sparse object: fields holding their proto3 default are left out, so decoding
 * is canonical. `strict` rejects field numbers our schema does not know (an op we would
 * otherwise run without the part we cannot see).
 */
export function decodeMessage(type: protobuf.Type, bytes: Uint8Array, strict: boolean, what = type.name): Obj {
  const out: Obj = {};
  decodeInto(type, bytes, strict, what, out);
  return out;
}

function decodeInto(type: protobuf.Type, bytes: Uint8Array, strict: boolean, what: string, out: Obj): void {
  const plan = planOf(type);
  const r = new WireReader(bytes, what);
  while (!r.done) {
    const key = r.varint();
    const id = Number(key >> 3n);
    const wireType = Number(key & 7n);
    const f = plan.byId.get(id);
    if (!f) {
      if (strict) throw r.fail(`pb.${plan.name} has no field ${id} (written by a newer BuildKit?)`);
      r.skip(wireType);
      continue;
    }
    if (f.map) {
      expectWire(r, f, wireType, WireType.LEN);
      const [k, v] = decodeMapEntry(f, r.lengthDelimited(), strict, what);
      const map = (out[f.js] ??= {}) as Obj;
      map[k] = v;
    } else if (f.repeated) {
      const list = (out[f.js] ??= []) as unknown[];
      if (isPackable(f.kind) && wireType === WireType.LEN) {
        const packed = new WireReader(r.lengthDelimited(), what);
        while (!packed.done) list.push(fromVarint(f, packed.varint(), packed));
      } else if (f.kind === 'message') {
        expectWire(r, f, wireType, WireType.LEN);
        list.push(decodeMessage(f.type!, r.lengthDelimited(), strict, what));
      } else {
        list.push(readScalar(r, f, wireType));
      }
    } else {
      if (f.oneof) for (const sib of plan.oneofs.get(f.oneof)!) if (sib !== f) delete out[sib.js];
      if (f.kind === 'message') {
        expectWire(r, f, wireType, WireType.LEN);
        // A message field seen twice is merged, as proto parsers do.
        const target = (out[f.js] ??= {}) as Obj;
        decodeInto(f.type!, r.lengthDelimited(), strict, what, target);
        continue;
      }
      const value = readScalar(r, f, wireType);
      if (!f.oneof && isDefault(f.kind, value, what)) delete out[f.js];
      else out[f.js] = value;
    }
  }
}

function decodeMapEntry(f: FieldPlan, bytes: Uint8Array, strict: boolean, what: string): [string, unknown] {
  const r = new WireReader(bytes, what);
  const valueKind = f.map!.valueKind;
  let key = '';
  let value: unknown = valueKind === 'message' ? {} : defaultOf(valueKind);
  while (!r.done) {
    const tag = r.varint();
    const id = Number(tag >> 3n);
    const wireType = Number(tag & 7n);
    if (id === 1) key = readScalar(r, { ...f, kind: 'string', js: `${f.js} key` }, wireType) as string;
    else if (id === 2 && valueKind === 'message') {
      expectWire(r, f, wireType, WireType.LEN);
      value = decodeMessage(f.map!.valueType!, r.lengthDelimited(), strict, what);
    } else if (id === 2) value = readScalar(r, { ...f, kind: valueKind }, wireType);
    else r.skip(wireType);
  }
  return [key, value];
}

function defaultOf(kind: Kind): unknown {
  switch (kind) {
    case 'string': return '';
    case 'bytes': return new Uint8Array(0);
    case 'bool': return false;
    default: return 0;
  }
}

function readScalar(r: WireReader, f: FieldPlan, wireType: number): unknown {
  if (f.kind === 'string' || f.kind === 'bytes') {
    expectWire(r, f, wireType, WireType.LEN);
    const b = r.lengthDelimited();
    if (f.kind === 'bytes') return Uint8Array.from(b);
    try {
      return utf8.decode(b);
    } catch {
      throw r.fail(`field ${f.js} is not valid UTF-8`);
    }
  }
  expectWire(r, f, wireType, WireType.VARINT);
  return fromVarint(f, r.varint(), r);
}

function fromVarint(f: FieldPlan, raw: bigint, r: WireReader): unknown {
  switch (f.kind) {
    case 'bool': return raw !== 0n;
    case 'uint32': return Number(BigInt.asUintN(32, raw));
    case 'int32':
    case 'enum': return Number(BigInt.asIntN(32, raw));
    default: {
      const v = BigInt.asIntN(64, raw);
      if (v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(v);
      if (f.wide) return v;
      throw r.fail(`field ${f.js} holds ${v}, too large for an index`);
    }
  }
}

function expectWire(r: WireReader, f: FieldPlan, got: number, want: number): void {
  if (got !== want) throw r.fail(`field ${f.js} (${f.id}) has wire type ${got}, expected ${want}`);
}
