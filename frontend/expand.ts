// Docker's shell-word processing for Dockerfile instructions: quote removal, escapes, `$VAR` /
// `${VAR…}` expansion and whitespace word splitting, behaving as BuildKit's shell lexer does.
import { UserError } from '../errors/kiln-error.js';

export type EnvLookup = (name: string) => string | undefined;

export interface WordResult {
  value: string;
  /** Variables the word referenced that the lookup knew (even when set to ''). */
  matched: Set<string>;
  /** Variables the word referenced that the lookup did not know. */
  unmatched: Set<string>;
}

export interface ShellLexerOptions {
  /**
   * Treat quotes as ordinary characters, expanding only `$…` and escapes. BuildKit does this for
   * heredoc bodies, whose quotes belong to the script rather than to the Dockerfile.
   */
  literalQuotes?: boolean;
}

export class ExpansionError extends UserError {
  readonly code = 'KILN_DOCKERFILE_EXPAND';
  constructor(
    /** The word as written in the Dockerfile. */
    readonly word: string,
    /** What is wrong, without the word (callers add file:line in front). */
    readonly reason: string,
  ) {
    super(`failed to expand ${JSON.stringify(word)}: ${reason}`);
    this.name = 'ExpansionError';
  }
}

/** A failure inside one word; `ShellLexer` turns it into an ExpansionError naming the word. */
class WordError extends Error {}

export class ShellLexer {
  private readonly literalQuotes: boolean;

  constructor(
    readonly escape: '\\' | '`',
    options: ShellLexerOptions = {},
  ) {
    this.literalQuotes = options.literalQuotes ?? false;
  }

  /** One word: quotes removed, variables expanded, whitespace kept. */
  processWord(word: string, env: EnvLookup): WordResult {
    const { value, matched, unmatched } = this.run(word, env);
    return { value, matched, unmatched };
  }

  /**
   * The word split on unquoted whitespace, after expansion: an unquoted variable's value splits
   * too, a quoted one never does, and empty results (`$UNSET`, `""`) make no word at all.
   */
  processWords(word: string, env: EnvLookup): WordResult & { values: string[] } {
    return this.run(word, env);
  }

  private run(word: string, env: EnvLookup): WordResult & { values: string[] } {
    const scan = new WordScanner(word, env, this.escape, this.literalQuotes);
    try {
      const { value, words } = scan.until(undefined, false);
      return { value, values: words, matched: scan.matched, unmatched: scan.unmatched };
    } catch (err) {
      if (err instanceof WordError) throw new ExpansionError(word, err.message);
      throw err;
    }
  }
}

/** Collects the split words while the scanner builds the joined value. */
class WordSplitter {
  readonly words: string[] = [];
  private current = '';
  private inWord = false;

  /** Text from an expansion or unquoted source: whitespace separates words. */
  splittable(text: string): void {
    for (const ch of text) {
      if (!isSpace(ch)) this.literal(ch);
      else if (this.inWord && this.current !== '') this.flush();
    }
  }

  /** Quoted or escaped text: stays in the current word, whitespace included. */
  literal(text: string): void {
    this.current += text;
    this.inWord = true;
  }

  finish(): string[] {
    if (this.current !== '') this.flush();
    return this.words;
  }

  private flush(): void {
    this.words.push(this.current);
    this.current = '';
    this.inWord = false;
  }
}

class WordScanner {
  readonly matched = new Set<string>();
  readonly unmatched = new Set<string>();
  private readonly chars: string[];
  private pos = 0;
  /** Inside `${VAR#…}`, `${VAR%…}` and `${VAR/…/…}` escapes are kept for the pattern matcher. */
  private rawEscapes = false;

  constructor(
    source: string,
    private readonly env: EnvLookup,
    private readonly escape: string,
    private readonly literalQuotes: boolean,
  ) {
    this.chars = Array.from(source);
  }

  /** Processes up to `stop` (consumed) or the end when `stop` is undefined. */
  until(stop: string | undefined, rawEscapes: boolean): { value: string; words: string[] } {
    const saved = this.rawEscapes;
    this.rawEscapes = rawEscapes;
    try {
      return this.untilInner(stop);
    } finally {
      this.rawEscapes = saved;
    }
  }

  private untilInner(stop: string | undefined): { value: string; words: string[] } {
    let value = '';
    const words = new WordSplitter();
    for (let ch = this.peek(); ch !== undefined; ch = this.peek()) {
      if (stop !== undefined && ch === stop) {
        this.pos++;
        return { value, words: words.finish() };
      }
      if (ch === '$') {
        const expanded = this.dollar();
        value += expanded;
        words.splittable(expanded);
        continue;
      }
      if (!this.literalQuotes && (ch === "'" || ch === '"')) {
        const quoted = ch === "'" ? this.singleQuoted() : this.doubleQuoted();
        value += quoted;
        words.literal(quoted);
        continue;
      }
      this.pos++;
      if (ch !== this.escape) {
        value += ch;
        words.splittable(ch);
        continue;
      }
      if (this.rawEscapes) {
        value += ch;
        words.literal(ch);
      }
      const escaped = this.next();
      // A trailing escape char is dropped, as BuildKit does.
      if (escaped === undefined) break;
      value += escaped;
      words.literal(escaped);
    }
    if (stop !== undefined) throw new WordError(`unexpected end of statement while looking for matching ${stop}`);
    return { value, words: words.finish() };
  }

  /** Everything up to the closing quote, literally; a single quote cannot be escaped inside. */
  private singleQuoted(): string {
    this.pos++;
    let out = '';
    for (;;) {
      const ch = this.next();
      if (ch === undefined) throw new WordError('unexpected end of statement while looking for matching single-quote');
      if (ch === "'") return out;
      out += ch;
    }
  }

  /** Expands `$…`; the escape char quotes only `"`, `$` and itself, elsewhere it stays literal. */
  private doubleQuoted(): string {
    this.pos++;
    let out = '';
    for (;;) {
      const ch = this.peek();
      if (ch === undefined) throw new WordError('unexpected end of statement while looking for matching double-quote');
      if (ch === '"') {
        this.pos++;
        return out;
      }
      if (ch === '$') {
        out += this.dollar();
        continue;
      }
      this.pos++;
      if (ch !== this.escape) {
        out += ch;
        continue;
      }
      if (this.rawEscapes) out += ch;
      const after = this.peek();
      if (after === undefined) continue; // loops once more to report the missing quote
      if (after === '"' || after === '$' || after === this.escape) {
        this.pos++;
        out += after;
      } else {
        out += ch;
      }
    }
  }

  private dollar(): string {
    this.pos++;
    if (this.peek() !== '{') {
      const name = this.name();
      return name === '' ? '$' : (this.lookup(name) ?? '');
    }
    this.pos++;
    const first = this.peek();
    if (first === undefined) throw new WordError("syntax error: missing '}'");
    if (first === '{' || first === '}' || first === ':') throw new WordError('syntax error: bad substitution');
    const name = this.name();
    const op = this.next();
    switch (op) {
      case undefined:
        throw new WordError("syntax error: missing '}'");
      case '}':
        return this.lookup(name) ?? '';
      case '/':
        return this.replace(name);
      case ':':
      case '+':
      case '-':
      case '?':
      case '#':
      case '%':
        return this.modifier(name, op);
      default:
        throw new WordError(`unsupported modifier (${op}) in substitution`);
    }
  }

  /** `${name:-w}` `${name-w}` `${name:+w}` `${name+w}` `${name:?w}` `${name?w}` `${name#p}` `${name%p}` … */
  private modifier(name: string, first: string): string {
    const nullIsUnset = first === ':';
    const op = nullIsUnset ? this.next() : first;
    const spelled = nullIsUnset ? `:${op ?? ''}` : first;
    const word = this.nested('}', op === '#' || op === '%', "syntax error: missing '}'");
    const value = this.lookup(name);
    const unset = value === undefined || (nullIsUnset && value === '');
    switch (op) {
      case '-':
        return unset ? word : value!;
      case '+':
        return unset ? '' : word;
      case '?':
        if (unset) {
          const fallback = value === undefined ? 'is not allowed to be unset' : 'is not allowed to be empty';
          throw new WordError(`${name}: ${word !== '' ? word : fallback}`);
        }
        return value!;
      case '#':
      case '%': {
        // A doubled operator (`##`, `%%`) asks for the longest match instead of the shortest.
        const longest = word.startsWith(op);
        const pattern = parseShellPattern(longest ? word.slice(1) : word);
        return op === '#' ? trimPrefix(value ?? '', pattern, longest) : trimSuffix(value ?? '', pattern, longest);
      }
      default:
        throw new WordError(`unsupported modifier (${spelled}) in substitution`);
    }
  }

  /** `${name/pattern/replacement}` replaces the first match, `${name//pattern/replacement}` all. */
  private replace(name: string): string {
    const all = this.peek() === '/';
    if (all) this.pos++;
    const pattern = this.nested('/', true, "syntax error: missing '/' in ${}");
    const replacement = this.nested('}', true, "syntax error: missing '}'");
    const value = this.lookup(name) ?? '';
    return replaceMatches(value, parseShellPattern(pattern), replacement, all);
  }

  /** A nested word inside `${…}`; running off the end is reported as the missing delimiter. */
  private nested(stop: string, rawEscapes: boolean, missing: string): string {
    try {
      return this.until(stop, rawEscapes).value;
    } catch (err) {
      if (err instanceof WordError && this.peek() === undefined) throw new WordError(missing);
      throw err;
    }
  }

  /**
   * A variable name: letters, digits and `_`; a leading digit run is a positional parameter and a
   * single special character (`@ * # ? - $ ! 0`) a special one. Docker has no values for those, so
   * they are looked up like any name and normally expand to nothing.
   */
  private name(): string {
    const first = this.peek();
    if (first === undefined) return '';
    if (DIGIT.test(first)) {
      let digits = '';
      while (this.peek() !== undefined && DIGIT.test(this.peek()!)) digits += this.next();
      return digits;
    }
    if (SPECIAL_PARAMS.has(first)) {
      this.pos++;
      return first;
    }
    let name = '';
    for (let ch = this.peek(); ch !== undefined && NAME_CHAR.test(ch); ch = this.peek()) name += this.next();
    return name;
  }

  private lookup(name: string): string | undefined {
    const value = this.env(name);
    (value === undefined ? this.unmatched : this.matched).add(name);
    return value;
  }

  private peek(): string | undefined {
    return this.chars[this.pos];
  }

  private next(): string | undefined {
    return this.chars[this.pos++];
  }
}

const DIGIT = /^\p{Nd}$/u;
const NAME_CHAR = /^[\p{L}\p{Nd}_]$/u;
const SPACE = /^\p{White_Space}$/u;
const SPECIAL_PARAMS = new Set(['@', '*', '#', '?', '-', '$', '!', '0']);

function isSpace(ch: string): boolean {
  return SPACE.test(ch);
}

// ---- shell patterns for `#`, `%` and `/` ------------------------------------------------------
// Only `*` (any run), `?` (one character) and backslash escapes are special; bracket expressions
// are literal, as in BuildKit. Characters that came from a variable's value are patterns too.

type PatternToken = { kind: 'star' } | { kind: 'any' } | { kind: 'char'; ch: string };

function parseShellPattern(pattern: string): PatternToken[] {
  const chars = Array.from(pattern);
  const tokens: PatternToken[] = [];
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i]!;
    if (ch === '*') tokens.push({ kind: 'star' });
    else if (ch === '?') tokens.push({ kind: 'any' });
    else if (ch !== '\\') tokens.push({ kind: 'char', ch });
    else {
      const next = chars[i + 1];
      // `\}` and `\/` only protect the delimiters of `${…}`; the backslash is not part of the pattern.
      if (next === '}' || next === '/') continue;
      if (next !== '*' && next !== '?' && next !== '\\') {
        throw new WordError(`invalid pattern (${pattern}) in substitution: invalid escape '\\${next ?? ''}'`);
      }
      tokens.push({ kind: 'char', ch: next });
      i++;
    }
  }
  return tokens;
}

/** Whether `tokens` match exactly `text[from, to)` (code points). */
function matchesWhole(tokens: PatternToken[], text: string[], from: number, to: number): boolean {
  // Remembers failed (token, position) pairs so runs of stars stay polynomial.
  const failed = new Set<number>();
  const width = to - from + 1;
  const go = (t: number, i: number): boolean => {
    if (t === tokens.length) return i === to;
    const key = t * width + (i - from);
    if (failed.has(key)) return false;
    const tok = tokens[t]!;
    let ok = false;
    if (tok.kind === 'star') {
      for (let j = i; j <= to && !ok; j++) ok = go(t + 1, j);
    } else if (i < to && (tok.kind === 'any' || tok.ch === text[i])) {
      ok = go(t + 1, i + 1);
    }
    if (!ok) failed.add(key);
    return ok;
  };
  return go(0, from);
}

/** Length of the shortest (or longest) match of `tokens` at the start of `text`, or -1. */
function prefixMatch(tokens: PatternToken[], text: string[], longest: boolean): number {
  if (longest) {
    for (let end = text.length; end >= 0; end--) if (matchesWhole(tokens, text, 0, end)) return end;
  } else {
    for (let end = 0; end <= text.length; end++) if (matchesWhole(tokens, text, 0, end)) return end;
  }
  return -1;
}

function trimPrefix(value: string, tokens: PatternToken[], longest: boolean): string {
  const text = Array.from(value);
  const end = prefixMatch(tokens, text, longest);
  return end < 0 ? value : text.slice(end).join('');
}

/** Suffix trimming is prefix trimming of the reversed value with the reversed pattern. */
function trimSuffix(value: string, tokens: PatternToken[], longest: boolean): string {
  const reversed = Array.from(value).reverse();
  const end = prefixMatch([...tokens].reverse(), reversed, longest);
  return end < 0 ? value : reversed.slice(end).reverse().join('');
}

/**
 * Leftmost, then longest, match; with `all`, non-overlapping matches left to right, where an
 * empty match right after a previous match does not count (the rule of Go's ReplaceAll, which
 * BuildKit uses).
 */
function replaceMatches(value: string, tokens: PatternToken[], replacement: string, all: boolean): string {
  const text = Array.from(value);
  let out = '';
  let pos = 0;
  let lastMatchEnd = -1;
  while (pos <= text.length) {
    let end = -1;
    for (let e = text.length; e >= pos; e--) {
      if (matchesWhole(tokens, text, pos, e)) {
        end = e;
        break;
      }
    }
    if (end < 0 || (end === pos && pos === lastMatchEnd)) {
      if (pos < text.length) out += text[pos];
      pos++;
      continue;
    }
    out += replacement;
    lastMatchEnd = end;
    if (!all) return out + text.slice(end).join('');
    if (end === pos) {
      if (pos < text.length) out += text[pos];
      pos++;
    } else {
      pos = end;
    }
  }
  return out;
}
