// The `--change` instructions of `kiln import` (as `docker import -c`): each value is one Dockerfile
// line (ENV, CMD, ENTRYPOINT, WORKDIR, USER, EXPOSE, LABEL, VOLUME, STOPSIGNAL) applied in order to
// an image's container config, its words read by the Dockerfile's own lexer. Pure: strings in,
// config out.
import path from 'node:path';
import type { ContainerConfig } from '../oci/image-spec.js';
import { ImportChangeError } from './errors.js';
import { ShellLexer } from './expand.js';
import { parseWords } from './words.js';

export const importChangeInstructions = [
  'ENV', 'CMD', 'ENTRYPOINT', 'WORKDIR', 'USER', 'EXPOSE', 'LABEL', 'VOLUME', 'STOPSIGNAL',
] as const;

const defaultShell = ['/bin/sh', '-c'];

/** Applies `changes` in order to a copy of `base`; throws ImportChangeError naming the bad one. */
export function applyChanges(base: ContainerConfig, changes: readonly string[]): ContainerConfig {
  const config: ContainerConfig = structuredClone(base);
  // As in a Dockerfile, ENTRYPOINT drops an inherited CMD unless a CMD was given alongside it.
  let cmdSet = false;
  for (const change of changes) {
    const m = /^\s*([A-Za-z]+)(?:\s+([\s\S]*))?$/.exec(change);
    if (!m) throw new ImportChangeError(change, 'expected an instruction such as ENV KEY=value');
    const keyword = m[1]!.toUpperCase();
    const rest = (m[2] ?? '').trim();
    if (!(importChangeInstructions as readonly string[]).includes(keyword)) {
      throw new ImportChangeError(change, `${keyword} is not supported by import; use one of ${importChangeInstructions.join(', ')}`);
    }
    if (rest === '') throw new ImportChangeError(change, `${keyword} requires an argument`);
    const env = envMap(config.Env);
    switch (keyword) {
      case 'ENV': {
        const next = new Map(env);
        for (const [k, v] of keyValues(change, rest, env)) next.set(k, v);
        config.Env = [...next].map(([k, v]) => `${k}=${v}`);
        break;
      }
      case 'LABEL':
        config.Labels = { ...config.Labels, ...Object.fromEntries(keyValues(change, rest, env)) };
        break;
      case 'CMD':
        config.Cmd = command(change, rest, config.Shell);
        cmdSet = true;
        break;
      case 'ENTRYPOINT':
        config.Entrypoint = command(change, rest, config.Shell);
        if (!cmdSet) config.Cmd = null;
        break;
      case 'WORKDIR': {
        const dir = single(change, rest, env);
        config.WorkingDir = path.posix.resolve(config.WorkingDir || '/', dir);
        break;
      }
      case 'USER':
        config.User = single(change, rest, env);
        break;
      case 'STOPSIGNAL': {
        const sig = single(change, rest, env);
        if (!/^(?:\d+|(?:SIG)?[A-Z][A-Z0-9+-]*)$/.test(sig)) {
          throw new ImportChangeError(change, `'${sig}' is not a signal; use a name such as SIGTERM or a number`);
        }
        config.StopSignal = sig;
        break;
      }
      case 'EXPOSE':
        config.ExposedPorts = { ...config.ExposedPorts };
        for (const spec of splitWords(rest, env)) for (const port of exposedPorts(change, spec)) config.ExposedPorts[port] = {};
        break;
      case 'VOLUME': {
        const paths = jsonArray(rest) ?? splitWords(rest, env);
        config.Volumes = { ...config.Volumes };
        for (const p of paths) {
          if (p.trim() === '') throw new ImportChangeError(change, 'VOLUME paths must not be empty');
          config.Volumes[p] = {};
        }
        break;
      }
    }
  }
  return config;
}

function envMap(env: readonly string[] | undefined): Map<string, string> {
  const map = new Map<string, string>();
  for (const kv of env ?? []) {
    const i = kv.indexOf('=');
    if (i > 0) map.set(kv.slice(0, i), kv.slice(i + 1));
  }
  return map;
}

/** `K=V K2="V 2"` pairs, or the legacy `K the rest of the line` form. */
function keyValues(change: string, rest: string, env: Map<string, string>): [string, string][] {
  const first = /^\S+/.exec(rest)![0];
  if (!first.includes('=')) {
    const value = rest.slice(first.length).trim();
    if (value === '') throw new ImportChangeError(change, `'${first}' has no value; write ${first}=VALUE`);
    return [[processWord(first, env), processWord(value, env)]];
  }
  // As in a Dockerfile, the line is split into words first and each is expanded whole, so a
  // value with spaces stays one value.
  return parseWords(rest, '\\').map((raw) => {
    const word = processWord(raw, env);
    const i = word.indexOf('=');
    if (i < 0) throw new ImportChangeError(change, `'${word}' is not of the form name=value`);
    if (i === 0) throw new ImportChangeError(change, `'${word}' has an empty name`);
    return [word.slice(0, i), word.slice(i + 1)] as [string, string];
  });
}

function single(change: string, rest: string, env: Map<string, string>): string {
  const words = splitWords(rest, env);
  if (words.length !== 1) throw new ImportChangeError(change, `expected one value, got ${words.length}`);
  return words[0]!;
}

/** Exec form `["a","b"]` as given; shell form runs through the image's shell (default /bin/sh -c). */
function command(change: string, rest: string, shell: string[] | undefined): string[] {
  const exec = jsonArray(rest);
  if (exec) return exec;
  if (rest.startsWith('[')) throw new ImportChangeError(change, 'the exec form must be a JSON array of strings, e.g. ["/bin/sh","-c","echo hi"]');
  return [...(shell && shell.length > 0 ? shell : defaultShell), rest];
}

function jsonArray(text: string): string[] | undefined {
  if (!text.startsWith('[')) return undefined;
  try {
    const v: unknown = JSON.parse(text);
    if (Array.isArray(v) && v.every((s): s is string => typeof s === 'string')) return v;
  } catch {
    // Not JSON: Docker then treats the text as shell form, and so do we.
  }
  return undefined;
}

function exposedPorts(change: string, spec: string): string[] {
  const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(spec);
  if (!m) throw new ImportChangeError(change, `'${spec}' is not a port; use PORT[/tcp|udp|sctp] or START-END[/proto]`);
  const start = Number(m[1]);
  const end = m[2] === undefined ? start : Number(m[2]);
  if (start < 1 || end > 65535 || end < start) throw new ImportChangeError(change, `'${spec}' is out of the range 1-65535`);
  const proto = (m[3] ?? 'tcp').toLowerCase();
  const ports: string[] = [];
  for (let p = start; p <= end; p++) ports.push(`${p}/${proto}`);
  return ports;
}

const lexer = new ShellLexer('\\');

/** Splits on unquoted whitespace, removing quotes and escapes and expanding $VAR / ${VAR}. */
export function splitWords(text: string, env: ReadonlyMap<string, string>): string[] {
  return lexer.processWords(text, (name) => env.get(name)).values;
}

/** Like splitWords, but whitespace is kept: the whole text is one word. */
function processWord(text: string, env: ReadonlyMap<string, string>): string {
  return lexer.processWord(text, (name) => env.get(name)).value;
}
