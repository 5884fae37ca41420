// `kiln run`/`exec` flag values read as docker reads them: `-e`/`--env-file` entries, `-v` and
// `--tmpfs` mounts, byte sizes and numbers. A value kiln cannot read names the flag.

import path from 'node:path';
import type { ContainerMount } from '../api/container-run.js';
import { InvalidRunFlagError } from './errors.js';

function checkKey(flag: string, entry: string, key: string): void {
  if (key === '') throw new InvalidRunFlagError(flag, entry, 'the variable name is empty; write KEY=value');
  if (/\s/.test(key)) throw new InvalidRunFlagError(flag, entry, `variable '${key}' contains whitespaces`);
}

/** One `-e` value: `KEY=value`, or `KEY` alone to pass kiln's own value (dropped when unset). */
export function envEntry(flag: string, entry: string, env: NodeJS.ProcessEnv): string | undefined {
  const eq = entry.indexOf('=');
  const key = eq < 0 ? entry : entry.slice(0, eq);
  checkKey(flag, entry, key);
  if (eq >= 0) return entry;
  const value = env[key];
  return value === undefined ? undefined : `${key}=${value}`;
}

/** An `--env-file`: one `KEY=value` or `KEY` per line, `#` comments and blank lines skipped, values literal. */
export function parseEnvFile(text: string, file: string, env: NodeJS.ProcessEnv): string[] {
  const out: string[] = [];
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.replace(/^\s+/, '');
    if (line === '' || line.startsWith('#')) continue;
    const entry = envEntry(`--env-file ${file}:${i + 1}`, line, env);
    if (entry !== undefined) out.push(entry);
  }
  return out;
}

/** `-v SRC:DST[:ro|rw]` with an absolute host SRC (relative ones are taken from `cwd`, as `-v ./x:/x`). */
export function parseVolume(value: string, cwd: string): ContainerMount {
  const parts = value.split(':');
  if (parts.length < 2 || parts.length > 3) {
    throw new InvalidRunFlagError('-v', value, 'expected SRC:DST or SRC:DST:ro (a host path, a container path, and optionally ro or rw)');
  }
  const [src = '', dst = '', mode] = parts;
  if (src === '' || dst === '') throw new InvalidRunFlagError('-v', value, 'the host and container paths must both be given');
  if (!src.startsWith('/') && !src.startsWith('.')) {
    throw new InvalidRunFlagError('-v', value, `named volumes are not supported; give a host path (/abs/path or ./rel/path) instead of "${src}"`);
  }
  if (!dst.startsWith('/')) throw new InvalidRunFlagError('-v', value, `the container path "${dst}" must be absolute`);
  if (mode !== undefined && mode !== 'ro' && mode !== 'rw') {
    throw new InvalidRunFlagError('-v', value, `unknown mode "${mode}"; use ro or rw`);
  }
  return { type: 'bind', source: path.resolve(cwd, src), target: dst, readonly: mode === 'ro' };
}

/** What `--security-opt` values ask for. */
export interface SecurityOptions {
  noNewPrivileges: boolean;
  seccomp: 'default' | 'unconfined';
}

/** `--security-opt no-new-privileges[=true|false]` and `seccomp=unconfined`, as docker reads them (`:` for `=` too). */
export function parseSecurityOpts(values: readonly string[]): SecurityOptions {
  let noNewPrivileges = false;
  let seccomp: SecurityOptions['seccomp'] = 'default';
  for (const value of values) {
    const [key = '', setting] = value.split(/[=:](.*)/s, 2);
    if (key === 'no-new-privileges') {
      if (setting === undefined || setting === 'true') noNewPrivileges = true;
      else if (setting === 'false') noNewPrivileges = false;
      else throw new InvalidRunFlagError('--security-opt', value, 'no-new-privileges takes true or false');
    } else if (key === 'seccomp') {
      if (setting !== 'unconfined') throw new InvalidRunFlagError('--security-opt', value, "kiln runs Docker's default seccomp filter or none: profile files are not supported yet; use seccomp=unconfined for none");
      seccomp = 'unconfined';
    } else {
      throw new InvalidRunFlagError('--security-opt', value, 'kiln knows no-new-privileges[=true|false] and seccomp=unconfined');
    }
  }
  return { noNewPrivileges, seccomp };
}

/** `--tmpfs DST[:opts]` with mount(8)-style options (`size=64m,mode=1777`). */
export function parseTmpfs(value: string): ContainerMount {
  const colon = value.indexOf(':');
  const target = colon < 0 ? value : value.slice(0, colon);
  if (!target.startsWith('/')) throw new InvalidRunFlagError('--tmpfs', value, `the container path "${target}" must be absolute`);
  const options = colon < 0 ? [] : value.slice(colon + 1).split(',').filter(Boolean);
  return { type: 'tmpfs', target, options };
}

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** Docker's RAMInBytes: `512`, `64m`, `1.5g`, `1GiB`; -1 where the flag allows unlimited. */
export function parseBytes(flag: string, value: string, allowUnlimited = false): number {
  if (allowUnlimited && value.trim() === '-1') return -1;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgtb]?)(?:i?b)?\s*$/i.exec(value);
  if (!m) throw new InvalidRunFlagError(flag, value, 'expected a size such as 512m or 1g');
  return Math.floor(Number(m[1]) * (UNITS[(m[2] ?? '').toLowerCase()] ?? 1));
}

/** A positive number flag (`--cpus 0.5`, `--cpu-shares 512`, `--pids-limit 100`). */
export function parseNumber(flag: string, value: string, integer: boolean): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || (integer && !Number.isInteger(n))) {
    throw new InvalidRunFlagError(flag, value, `expected ${integer ? 'a whole number' : 'a number'}`);
  }
  return n;
}
