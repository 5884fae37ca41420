// `--name[=value]` flags of one instruction, checked against what that instruction accepts:
// unknown names, repeats of single-valued flags, missing values and non-boolean booleans are errors.

import { DockerfileError, DockerfileErrorCode } from './errors.js';
import type { SourceRange } from './nodes.js';
import { didYouMean } from './suggest.js';

/** `string`: one value; `strings`: repeatable; `bool`: `--x`, `--x=true` or `--x=false`. */
export type FlagKind = 'string' | 'strings' | 'bool';
export type FlagSpec = Readonly<Record<string, FlagKind>>;

export class Flags {
  private constructor(private readonly values: ReadonlyMap<string, string | string[] | boolean>) {}

  /** Parses flag words (`--name=value`, quotes already removed) for `instruction` (upper case, for messages). */
  static parse(words: readonly string[], spec: FlagSpec, instruction: string, range: SourceRange): Flags {
    const fail = (what: string): never => {
      throw new DockerfileError(range.file, range.startLine, what, DockerfileErrorCode.flag);
    };
    const names = Object.keys(spec);
    const values = new Map<string, string | string[] | boolean>();
    for (const word of words) {
      const body = word.slice(2);
      const eq = body.indexOf('=');
      const name = eq < 0 ? body : body.slice(0, eq);
      const value = eq < 0 ? undefined : body.slice(eq + 1);
      const kind = spec[name];
      if (kind === undefined) {
        const accepted = names.length === 0
          ? `${instruction} takes no flags`
          : `${instruction} accepts ${names.map((n) => `--${n}`).join(', ')}`;
        fail(`unknown flag --${name} for ${instruction}${didYouMean(name, names, '--')}; ${accepted}`);
      }
      if (values.has(name) && kind !== 'strings') fail(`flag --${name} is given twice for ${instruction}: give it once`);
      if (kind === 'bool') {
        if (value === '') fail(`flag --${name} for ${instruction} has an empty value: write --${name} or --${name}=true|false`);
        const v = (value ?? 'true').toLowerCase();
        if (v !== 'true' && v !== 'false') fail(`flag --${name} for ${instruction} expects true or false, not "${value}"`);
        values.set(name, v === 'true');
      } else {
        if (value === undefined) fail(`flag --${name} for ${instruction} needs a value: --${name}=<value>`);
        if (kind === 'string') values.set(name, value!);
        else values.set(name, [...((values.get(name) as string[] | undefined) ?? []), value!]);
      }
    }
    return new Flags(values);
  }

  string(name: string): string | undefined {
    const v = this.values.get(name);
    return typeof v === 'string' ? v : undefined;
  }

  strings(name: string): string[] {
    const v = this.values.get(name);
    return Array.isArray(v) ? v : [];
  }

  /** The flag's value, or `undefined` when it was not given at all. */
  bool(name: string): boolean | undefined {
    const v = this.values.get(name);
    return typeof v === 'boolean' ? v : undefined;
  }
}
