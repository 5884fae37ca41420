// A readable JSON view of a Definition for `kiln debug llb --format json`: each op decoded,
// enums by name, file contents as text when they are UTF-8 (else base64), big ints as strings.
import { opDigest, unmarshalOp } from './marshal.js';
import { CacheSharingOpt, MountContentCache, MountType, NetMode, SecurityMode, type Definition, type Op, type OpMetadata } from './types.js';

export interface OpJSON {
  digest: string;
  op: unknown;
  metadata?: OpMetadata;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function nameOf(table: Record<string, number>, value: number | undefined): string {
  return Object.entries(table).find(([, v]) => v === (value ?? 0))?.[0] ?? String(value);
}

function readable(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Uint8Array) {
    try {
      return utf8.decode(value);
    } catch {
      return { base64: Buffer.from(value).toString('base64') };
    }
  }
  if (Array.isArray(value)) return value.map(readable);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, readable(v)]));
  }
  return value;
}

/** Enums spelled out; the exec's defaults too, since "sandbox" reads better than nothing. */
function withEnumNames(op: Op): unknown {
  const out = readable(op) as Record<string, unknown>;
  if (!op.exec) return out;
  const exec = out['exec'] as Record<string, unknown>;
  exec['network'] = nameOf(NetMode, op.exec.network);
  exec['security'] = nameOf(SecurityMode, op.exec.security);
  exec['mounts'] = (op.exec.mounts ?? []).map((m, i) => {
    const jm = (exec['mounts'] as Record<string, unknown>[])[i]!;
    jm['mountType'] = nameOf(MountType, m.mountType);
    if (m.contentCache) jm['contentCache'] = nameOf(MountContentCache, m.contentCache);
    if (m.cacheOpt) (jm['cacheOpt'] as Record<string, unknown>)['sharing'] = nameOf(CacheSharingOpt, m.cacheOpt.sharing);
    return jm;
  });
  return out;
}

export function definitionToJSON(def: Definition): OpJSON[] {
  return def.def.map((bytes) => {
    const digest = opDigest(bytes);
    const entry: OpJSON = { digest, op: withEnumNames(unmarshalOp(bytes)) };
    const md = def.metadata[digest];
    if (md) entry.metadata = readable(md) as OpMetadata;
    return entry;
  });
}

/** The digest of the op whose output is the build's result, named by the terminal op. */
export function resultDigest(def: Definition): string | undefined {
  const last = def.def[def.def.length - 1];
  return last ? unmarshalOp(last).inputs?.[0]?.digest : undefined;
}
