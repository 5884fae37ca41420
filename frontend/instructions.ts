// Typed Dockerfile instructions and the conversion of one Node into one, with every argument and
// flag checked as BuildKit's Dockerfile frontend (syntax 1.x) checks it. Values stay raw: `$VAR`s and
// quotes are left for expansion.

import { DockerfileError, DockerfileErrorCode, type DockerfileErrorCodeValue } from './errors.js';
import { Flags, type FlagSpec } from './flags.js';
import { parseHeredocWord } from './heredoc.js';
import { parseMount } from './mounts.js';
import type { Heredoc, Node, SourceRange } from './nodes.js';
import { splitCommand } from './parser.js';
import { didYouMean } from './suggest.js';
import { parseJsonArray, parseWords, splitFields, type Escape } from './words.js';

export type { Heredoc, SourceRange } from './nodes.js';

/** Exec form (JSON array) or shell form: `script` is the text as written, continuations joined, not expanded. */
export type CommandForm = { json: true; args: string[] } | { json: false; script: string };

/**
 * Raw, unexpanded; quotes kept in the value so expansion can process them: `ENV a="x y"` gives
 * value `"x y"`, legacy `ENV a x y` gives `x y`.
 */
export interface KeyValue {
  key: string;
  value: string;
}

export interface ArgDecl {
  name: string;
  /** Raw, unexpanded. */
  default?: string;
}

interface Located {
  range: SourceRange;
  /** The instruction's source text, continuations joined. */
  original: string;
}

export type Instruction =
  | ({ kind: 'from'; image: string; stageName?: string; platform?: string } & Located)
  | ({ kind: 'run'; cmd: CommandForm; heredocs: Heredoc[]; mounts: string[]; network?: string; security?: string } & Located)
  | ({ kind: 'cmd' | 'entrypoint'; cmd: CommandForm } & Located)
  | ({ kind: 'shell'; args: string[] } & Located)
  | ({ kind: 'label' | 'env'; pairs: KeyValue[] } & Located)
  | ({ kind: 'maintainer'; name: string } & Located)
  | ({ kind: 'expose'; ports: string[] } & Located)
  | ({
      kind: 'copy' | 'add';
      /** Raw words; a heredoc source stays as written (`<<EOF`) and its body is in `heredocs`. */
      sources: string[];
      dest: string;
      heredocs: Heredoc[];
      from?: string;
      chown?: string;
      chmod?: string;
      link: boolean;
      parents: boolean;
      excludes: string[];
      checksum?: string;
      keepGitDir?: boolean;
      unpack?: boolean;
      json: boolean;
    } & Located)
  | ({ kind: 'volume'; paths: string[] } & Located)
  | ({ kind: 'user'; user: string } & Located)
  | ({ kind: 'workdir'; path: string } & Located)
  | ({ kind: 'arg'; args: ArgDecl[] } & Located)
  /** `trigger`: the text after ONBUILD (heredoc bodies appended as BuildKit does), already validated. */
  | ({ kind: 'onbuild'; trigger: string } & Located)
  | ({ kind: 'stopsignal'; signal: string } & Located)
  | ({
      kind: 'healthcheck';
      test: 'NONE' | CommandForm;
      /** Durations in nanoseconds; 0 means "use the default", as in Docker. */
      interval?: number;
      timeout?: number;
      startPeriod?: number;
      startInterval?: number;
      retries?: number;
    } & Located);

export type InstructionOf<K extends Instruction['kind']> = Extract<Instruction, { kind: K }>;

export const instructionNames = ['ADD', 'ARG', 'CMD', 'COPY', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'FROM', 'HEALTHCHECK',
  'LABEL', 'MAINTAINER', 'ONBUILD', 'RUN', 'SHELL', 'STOPSIGNAL', 'USER', 'VOLUME', 'WORKDIR'] as const;

const noFlags: FlagSpec = {};
const flagSpecs: Readonly<Record<string, FlagSpec>> = {
  from: { platform: 'string' },
  run: { mount: 'strings', network: 'string', security: 'string' },
  copy: { from: 'string', chown: 'string', chmod: 'string', link: 'bool', parents: 'bool', exclude: 'strings' },
  add: { chown: 'string', chmod: 'string', link: 'bool', exclude: 'strings', checksum: 'string', 'keep-git-dir': 'bool', unpack: 'bool' },
  healthcheck: { interval: 'string', timeout: 'string', 'start-period': 'string', 'start-interval': 'string', retries: 'string' },
};

const stageName = /^[a-z][a-z0-9\-_.]*$/;

/** Go's time.ParseDuration, in nanoseconds (e.g. `1m30s`, `500ms`, `1.5h`). */
export function parseDuration(text: string): number | undefined {
  const units: Record<string, bigint> = { ns: 1n, us: 1_000n, 'µs': 1_000n, 'μs': 1_000n, ms: 1_000_000n, s: 1_000_000_000n, m: 60_000_000_000n, h: 3_600_000_000_000n };
  let s = text;
  let negative = false;
  if (s.startsWith('-') || s.startsWith('+')) {
    negative = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') return undefined;
  let total = 0n;
  while (s !== '') {
    const m = /^(\d*)(?:\.(\d*))?([^\d.]+)/.exec(s);
    if (!m || (m[1] === '' && (m[2] ?? '') === '')) return undefined;
    const unit = units[m[3]!];
    if (unit === undefined) return undefined;
    const frac = m[2] ?? '';
    total += BigInt(m[1] || '0') * unit + (frac === '' ? 0n : (BigInt(frac) * unit) / 10n ** BigInt(frac.length));
    s = s.slice(m[0].length);
  }
  if (total > 2n ** 63n - 1n) return undefined;
  return Number(negative ? -total : total);
}

class InstructionReader {
  readonly name: string;
  readonly kind: string;

  constructor(private readonly node: Node, private readonly escape: Escape) {
    this.name = node.keyword.toUpperCase();
    this.kind = node.keyword.toLowerCase();
  }

  fail(what: string, code: DockerfileErrorCodeValue = DockerfileErrorCode.args): never {
    throw new DockerfileError(this.node.range.file, this.node.range.startLine, what, code);
  }

  flags(spec: FlagSpec = noFlags): Flags {
    return Flags.parse(this.node.flags, spec, this.name, this.node.range);
  }

  get located(): Located {
    return { range: this.node.range, original: this.node.original };
  }

  /** The exec/shell choice of RUN, CMD, ENTRYPOINT, SHELL and HEALTHCHECK CMD. */
  commandForm(text: string): CommandForm {
    const json = this.json(text);
    return json ? { json: true, args: json } : { json: false, script: text };
  }

  /** The JSON array of `text` when it is one; a JSON array of non-strings is an error, as in BuildKit. */
  json(text: string): string[] | undefined {
    const parsed = parseJsonArray(text);
    if (parsed.kind === 'not-strings') {
      this.fail(`${this.name} in JSON (exec) form takes an array of strings only: quote every element`);
    }
    return parsed.kind === 'strings' ? parsed.values : undefined;
  }

  exactlyOne(what: string): string {
    if (this.node.args === '') this.fail(`${this.name} requires exactly one argument: ${this.name} <${what}>`);
    return this.node.args;
  }

  /** ENV and LABEL: `k=v k2="a b"` pairs, or the legacy single `k v...` pair. */
  pairs(): KeyValue[] {
    const words = parseWords(this.node.args, this.escape);
    if (words.length === 0) this.fail(`${this.name} requires at least one argument: ${this.name} <key>=<value> ...`);
    if (!words[0]!.includes('=')) {
      const m = /[\t\v\f\r ]+/.exec(this.node.args);
      if (!m) this.fail(`${this.name} must have two arguments: ${this.name} <key>=<value> (or the legacy ${this.name} <key> <value>)`);
      return [this.pair(this.node.args.slice(0, m.index), this.node.args.slice(m.index + m[0].length))];
    }
    return words.map((word) => {
      const eq = word.indexOf('=');
      if (eq < 0) this.fail(`${this.name} has no "=" in ${JSON.stringify(word)}: write each pair as <key>=<value>`);
      return this.pair(word.slice(0, eq), word.slice(eq + 1));
    });
  }

  private pair(key: string, value: string): KeyValue {
    if (key === '') this.fail(`${this.name} names can not be blank: write <key>=<value>`);
    return { key, value };
  }
}

export function toInstruction(node: Node, escape: Escape): Instruction {
  const r = new InstructionReader(node, escape);
  const args = node.args;
  switch (r.kind) {
    case 'from': {
      const flags = r.flags(flagSpecs.from);
      const words = splitFields(args);
      const from: InstructionOf<'from'> = { kind: 'from', image: words[0] ?? '', ...r.located };
      if (words.length === 3 && words[1]!.toLowerCase() === 'as') {
        const name = words[2]!.toLowerCase();
        if (!stageName.test(name)) {
          r.fail(`invalid stage name "${words[2]}": it must start with a letter and hold only letters, digits, "-", "_" and "."`,
            DockerfileErrorCode.stage);
        }
        from.stageName = name;
      } else if (words.length !== 1) {
        r.fail('FROM requires either one or three arguments: FROM <image> [AS <name>]');
      }
      const platform = flags.string('platform');
      if (platform !== undefined) from.platform = platform;
      return from;
    }
    case 'run': {
      const flags = r.flags(flagSpecs.run);
      const run: InstructionOf<'run'> = {
        kind: 'run', cmd: r.commandForm(args), heredocs: node.heredocs, mounts: flags.strings('mount'), ...r.located,
      };
      // Values holding $VAR are checked by the compiler once expanded; the rest fail here, with their line.
      let ssh = 0;
      for (const m of run.mounts) {
        if (!m.includes('$')) {
          if (parseMount(m, node.range, ssh).type === 'ssh') ssh++;
        }
      }
      const network = flags.string('network');
      if (network !== undefined) {
        if (!['default', 'none', 'host'].includes(network)) {
          r.fail(`unsupported network mode "${network}" for RUN --network: use default, none or host`, DockerfileErrorCode.flag);
        }
        run.network = network;
      }
      const security = flags.string('security');
      if (security !== undefined) {
        if (security !== 'sandbox' && security !== 'insecure') {
          r.fail(`unsupported security mode "${security}" for RUN --security: use sandbox or insecure`, DockerfileErrorCode.flag);
        }
        run.security = security;
      }
      return run;
    }
    case 'cmd':
    case 'entrypoint':
      r.flags();
      return { kind: r.kind, cmd: r.commandForm(args), ...r.located };
    case 'shell': {
      r.flags();
      const json = r.json(args) ?? (args === '' ? [] : r.fail('SHELL requires the arguments in JSON form: SHELL ["executable", "parameters"]'));
      if (json.length === 0) r.fail('SHELL requires at least one argument: SHELL ["executable", "parameters"]');
      return { kind: 'shell', args: json, ...r.located };
    }
    case 'env':
    case 'label':
      r.flags();
      return { kind: r.kind, pairs: r.pairs(), ...r.located };
    case 'maintainer':
      r.flags();
      return { kind: 'maintainer', name: r.exactlyOne('name'), ...r.located };
    case 'expose': {
      r.flags();
      const ports = splitFields(args);
      if (ports.length === 0) r.fail('EXPOSE requires at least one argument: EXPOSE <port>[/<protocol>] ...');
      return { kind: 'expose', ports, ...r.located };
    }
    case 'copy':
    case 'add':
      return copyOrAdd(r, node, r.kind);
    case 'volume': {
      r.flags();
      const paths = (r.json(args) ?? splitFields(args)).map((p) => p.trim());
      if (paths.length === 0) r.fail('VOLUME requires at least one argument: VOLUME <path> ...');
      if (paths.includes('')) r.fail('VOLUME paths can not be empty strings');
      return { kind: 'volume', paths, ...r.located };
    }
    case 'user':
      r.flags();
      return { kind: 'user', user: r.exactlyOne('user[:group]'), ...r.located };
    case 'workdir':
      r.flags();
      return { kind: 'workdir', path: r.exactlyOne('path'), ...r.located };
    case 'stopsignal':
      r.flags();
      return { kind: 'stopsignal', signal: r.exactlyOne('signal'), ...r.located };
    case 'arg': {
      r.flags();
      const words = parseWords(args, escape);
      if (words.length === 0) r.fail('ARG requires at least one argument: ARG <name>[=<default>] ...');
      return {
        kind: 'arg',
        args: words.map((word): ArgDecl => {
          const eq = word.indexOf('=');
          if (eq < 0) return { name: word };
          if (eq === 0) r.fail(`ARG names can not be blank: ${JSON.stringify(word)}`);
          return { name: word.slice(0, eq), default: word.slice(eq + 1) };
        }),
        ...r.located,
      };
    }
    case 'onbuild':
      return onbuild(r, node, escape);
    case 'healthcheck':
      return healthcheck(r, node);
    default:
      return r.fail(`unknown instruction: ${node.keyword}${didYouMean(node.keyword, instructionNames)}`,
        DockerfileErrorCode.unknownInstruction);
  }
}

function copyOrAdd(r: InstructionReader, node: Node, kind: 'copy' | 'add'): InstructionOf<'copy' | 'add'> {
  const json = r.json(node.args);
  const words = json ?? splitFields(node.args);
  if (words.length < 2) {
    r.fail(`${r.name} requires at least two arguments, a source and a destination: ${r.name} <src>... <dest>`);
  }
  const flags = r.flags(flagSpecs[kind]);
  const dest = words[words.length - 1]!;
  if (parseHeredocWord(dest)) r.fail(`${r.name} cannot take a heredoc as its destination`, DockerfileErrorCode.heredoc);
  const out: InstructionOf<'copy' | 'add'> = {
    kind,
    sources: words.slice(0, -1),
    dest,
    heredocs: node.heredocs,
    link: flags.bool('link') ?? false,
    parents: flags.bool('parents') ?? false,
    excludes: flags.strings('exclude'),
    json: json !== undefined,
    ...r.located,
  };
  const from = flags.string('from');
  const chown = flags.string('chown');
  const chmod = flags.string('chmod');
  const checksum = flags.string('checksum');
  const keepGitDir = flags.bool('keep-git-dir');
  const unpack = flags.bool('unpack');
  if (from !== undefined) out.from = from;
  if (chown !== undefined) out.chown = chown;
  if (chmod !== undefined) out.chmod = chmod;
  if (checksum !== undefined) out.checksum = checksum;
  if (keepGitDir !== undefined) out.keepGitDir = keepGitDir;
  if (unpack !== undefined) out.unpack = unpack;
  return out;
}

function onbuild(r: InstructionReader, node: Node, escape: Escape): InstructionOf<'onbuild'> {
  r.flags();
  if (node.args === '') r.fail('ONBUILD requires at least one argument: ONBUILD <instruction>');
  const sub = splitCommand(node.args);
  const subName = sub.keyword.toUpperCase();
  if (subName === 'ONBUILD') r.fail('chaining ONBUILD via `ONBUILD ONBUILD` is not allowed');
  if (subName === 'FROM' || subName === 'MAINTAINER') r.fail(`${subName} is not allowed as an ONBUILD trigger`);
  // The trigger must itself be a valid instruction; its errors carry the ONBUILD line.
  toInstruction({ ...sub, original: node.args, heredocs: node.heredocs, range: node.range }, escape);
  let trigger = node.original.replace(/^\s*ONBUILD\s*/i, '');
  for (const h of node.heredocs) trigger += `\n${h.content}${h.name}`;
  return { kind: 'onbuild', trigger, ...r.located };
}

function healthcheck(r: InstructionReader, node: Node): InstructionOf<'healthcheck'> {
  const m = /^(\S+)\s*([\s\S]*)$/.exec(node.args);
  if (!m) r.fail('HEALTHCHECK requires at least one argument: HEALTHCHECK [options] CMD <command>, or HEALTHCHECK NONE');
  const type = m[1]!.toUpperCase();
  const rest = m[2]!;
  if (type === 'NONE') {
    // BuildKit ignores flags given with NONE; so do we, to accept the same files.
    if (rest !== '') r.fail('HEALTHCHECK NONE takes no arguments');
    return { kind: 'healthcheck', test: 'NONE', ...r.located };
  }
  const flags = r.flags(flagSpecs.healthcheck);
  if (type !== 'CMD') r.fail(`unknown type "${m[1]}" in HEALTHCHECK: use HEALTHCHECK [options] CMD <command> or HEALTHCHECK NONE`);
  const test = r.commandForm(rest);
  if (test.json ? test.args.length === 0 : test.script === '') r.fail('HEALTHCHECK CMD is missing its command');
  const out: InstructionOf<'healthcheck'> = { kind: 'healthcheck', test, ...r.located };
  const durations = [['interval', 'interval'], ['timeout', 'timeout'], ['start-period', 'startPeriod'], ['start-interval', 'startInterval']] as const;
  for (const [flag, field] of durations) {
    const text = flags.string(flag);
    if (text === undefined) continue;
    const ns = parseDuration(text);
    if (ns === undefined) r.fail(`HEALTHCHECK --${flag}="${text}" is not a duration: write e.g. 30s, 1m30s or 500ms`, DockerfileErrorCode.flag);
    if (ns !== 0 && ns < 1_000_000) r.fail(`HEALTHCHECK --${flag}="${text}" must be at least 1ms (or 0 for the default)`, DockerfileErrorCode.flag);
    out[field] = ns;
  }
  const retries = flags.string('retries');
  if (retries !== undefined) {
    const n = /^[+-]?\d+$/.test(retries) ? Number(retries) : NaN;
    if (!Number.isSafeInteger(n) || n > 2 ** 31 - 1 || n < -(2 ** 31)) {
      r.fail(`HEALTHCHECK --retries="${retries}" is not a whole number`, DockerfileErrorCode.flag);
    }
    if (n < 0) r.fail(`HEALTHCHECK --retries cannot be negative (${n})`, DockerfileErrorCode.flag);
    out.retries = n;
  }
  return out;
}
