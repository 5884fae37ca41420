// `RUN --mount=...` values: the CSV of key=value fields, checked per mount type, with Docker's
// defaults filled in. Called on text whose `$VAR`s the compiler has already expanded.

import { CsvSyntaxError, splitCsvRecord } from './csv.js';
import { posix } from 'node:path';
import { DockerfileError, DockerfileErrorCode } from './errors.js';
import type { SourceRange } from './nodes.js';
import { didYouMean } from './suggest.js';

export type MountType = 'bind' | 'cache' | 'tmpfs' | 'secret' | 'ssh';

export interface MountSpec {
  type: MountType;
  /**
   * Where it appears in the container, as written: relative or '' (not given) means under the
   * WORKDIR, for every type but ssh; a secret's default is /run/secrets/<id>, unless it is
   * exposed solely through `env`.
   */
  target: string;
  source?: string;
  from?: string;
  readonly: boolean;
  /** Cache id (the compiler defaults it to the target), secret id (default: basename of target) or ssh id (default "default"). */
  id?: string;
  sharing?: 'shared' | 'private' | 'locked';
  mode?: number;
  uid?: number;
  gid?: number;
  required?: boolean;
  /** tmpfs size limit in bytes. */
  size?: number;
  /** Name of the environment variable a secret is exposed as. */
  env?: string;
  /** Which defaults the user overrode: BuildKit's LLB differs for them (an ssh id, a cache dir's owner). */
  explicit?: { id?: true; owner?: true };
}

const types: readonly MountType[] = ['bind', 'cache', 'tmpfs', 'secret', 'ssh'];
const keys = ['type', 'from', 'source', 'src', 'target', 'dst', 'destination', 'readonly', 'ro', 'readwrite', 'rw',
  'id', 'sharing', 'mode', 'uid', 'gid', 'required', 'size', 'env'];

/** Go's strconv.ParseBool. */
function parseBool(v: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false;
  return undefined;
}

/** Docker's RAMInBytes: `64m`, `1.5g`, `512k`, `1024`, with binary (1024) multipliers. */
function parseSize(v: string): number | undefined {
  const m = /^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$/.exec(v);
  if (!m) return undefined;
  const power = m[2] ? 'kmgtp'.indexOf(m[2].toLowerCase()) + 1 : 0;
  return Math.trunc(parseFloat(m[1]!) * 1024 ** power);
}

/**
 * Parses one `--mount` value. `sshIndex` numbers the ssh mounts of one RUN (0, 1, ...), for the
 * default agent socket path.
 */
export function parseMount(value: string, range: SourceRange, sshIndex = 0): MountSpec {
  const fail = (what: string): never => {
    throw new DockerfileError(range.file, range.startLine, `invalid --mount "${value}": ${what}`, DockerfileErrorCode.mount);
  };
  if (value === '') fail('the value is empty: give its fields, e.g. type=cache,target=/root/.cache');
  let fields: string[] = [];
  try {
    fields = splitCsvRecord(value);
  } catch (err) {
    if (!(err instanceof CsvSyntaxError)) throw err;
    fail(err.reason);
  }

  let type: MountType = 'bind';
  const given = new Map<string, string>();
  let readonly: boolean | undefined;
  let required: boolean | undefined;
  const boolOf = (key: string, v: string): boolean => parseBool(v) ?? fail(`${key} must be true or false, not "${v}"`);

  for (const field of fields) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    const v = eq < 0 ? undefined : field.slice(eq + 1);
    if (v === undefined) {
      if (key === 'readonly' || key === 'ro') readonly = true;
      else if (key === 'readwrite' || key === 'rw') readonly = false;
      else if (key === 'required') required = true;
      else fail(`field "${field}" must be a key=value pair`);
      continue;
    }
    switch (key) {
      case 'type': {
        const t = v.toLowerCase() as MountType;
        if (!types.includes(t)) fail(`unsupported mount type "${v}"${didYouMean(v, types)}; use one of ${types.join(', ')}`);
        type = t;
        break;
      }
      case 'readonly': case 'ro': readonly = boolOf(key, v); break;
      case 'readwrite': case 'rw': readonly = !boolOf(key, v); break;
      case 'required': required = boolOf(key, v); break;
      case 'src': case 'source': given.set('source', v); break;
      case 'dst': case 'destination': case 'target': given.set('target', v); break;
      case 'from': case 'id': case 'sharing': case 'mode': case 'uid': case 'gid': case 'size': case 'env':
        given.set(key, v);
        break;
      default:
        fail(`unknown key "${key}"${didYouMean(key, keys)}; known keys: ${keys.join(', ')}`);
    }
  }

  const onlyFor = (key: string, allowed: readonly MountType[]): void => {
    if ((given.has(key) || (key === 'required' && required !== undefined)) && !allowed.includes(type)) {
      fail(`${key} is not allowed for type=${type} mounts (only ${allowed.join(', ')})`);
    }
  };
  onlyFor('sharing', ['cache']);
  onlyFor('mode', ['cache', 'secret', 'ssh']);
  onlyFor('uid', ['cache', 'secret', 'ssh']);
  onlyFor('gid', ['cache', 'secret', 'ssh']);
  onlyFor('required', ['secret', 'ssh']);
  onlyFor('size', ['tmpfs']);
  onlyFor('env', ['secret']);
  onlyFor('from', ['bind', 'cache']);

  const uint32 = (key: string, radix: 8 | 10): number | undefined => {
    const raw = given.get(key);
    if (raw === undefined) return undefined;
    const ok = radix === 8 ? /^[0-7]+$/.test(raw) : /^[0-9]+$/.test(raw);
    const n = ok ? parseInt(raw, radix) : NaN;
    if (!(n <= 0xffffffff)) fail(`${key} must be ${radix === 8 ? 'an octal number like 0755' : 'a non-negative number'}, not "${raw}"`);
    return n;
  };

  const spec: MountSpec = { type, target: given.get('target') ?? '', readonly: readonly ?? !(type === 'cache' || type === 'tmpfs') };
  const source = given.get('source');
  const from = given.get('from');
  if (source !== undefined && type !== 'secret') spec.source = source;
  if (from !== undefined) spec.from = from;

  const fileOwner = (mode: number): void => {
    if (given.has('mode') || given.has('uid') || given.has('gid')) spec.explicit = { ...spec.explicit, owner: true };
    spec.mode = uint32('mode', 8) ?? mode;
    spec.uid = uint32('uid', 10) ?? 0;
    spec.gid = uint32('gid', 10) ?? 0;
  };

  switch (type) {
    case 'bind':
      break;
    case 'cache': {
      const id = given.get('id');
      if (id) spec.id = id;
      const sharing = (given.get('sharing') ?? 'shared').toLowerCase();
      if (sharing !== 'shared' && sharing !== 'private' && sharing !== 'locked') {
        fail(`unsupported sharing value "${given.get('sharing')}": use shared, private or locked`);
      }
      spec.sharing = sharing as MountSpec['sharing'];
      fileOwner(0o755);
      break;
    }
    case 'tmpfs': {
      const size = given.get('size');
      if (size !== undefined) spec.size = parseSize(size) ?? fail(`size must be a byte count like 64m or 1g, not "${size}"`);
      break;
    }
    case 'secret': {
      const id = given.get('id');
      if (id !== undefined && source !== undefined) fail('give the secret id once: id and source are the same setting');
      const env = given.get('env');
      if (env !== undefined) spec.env = env;
      const target = given.get('target');
      const secretId = source || id || (target ? posix.basename(target) : '') || fail('a secret mount needs id=<secret id> or target=<path>');
      spec.id = secretId;
      spec.target = target || (env !== undefined ? '' : `/run/secrets/${posix.basename(secretId)}`);
      spec.required = required ?? false;
      fileOwner(0o400);
      break;
    }
    case 'ssh':
      spec.id = given.get('id') || 'default';
      if (given.get('id')) spec.explicit = { ...spec.explicit, id: true };
      if (spec.target === '') spec.target = `/run/buildkit/ssh_agent.${sshIndex}`;
      spec.required = required ?? false;
      fileOwner(0o600);
      break;
  }
  return spec;
}
