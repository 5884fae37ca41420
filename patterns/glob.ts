// Path patterns with Go's filepath.Match syntax (`*`, `?`, classes, backslash escapes), rejecting
// what Go rejects, plus Docker's `**` for whole paths: the one implementation behind
// .dockerignore, COPY --exclude and wildcard COPY sources.
import { PatternError } from './errors.js';

type Token =
  | { kind: 'char'; ch: string }
  | { kind: 'star' } // `*`: any run without `/`
  | { kind: 'any' } // `?`: one character but `/`
  | { kind: 'dirs' } // `**` (and a `/` after it): zero or more whole directories
  | { kind: 'rest' } // `**` at the end: anything
  | { kind: 'class'; negated: boolean; ranges: Array<[number, number]> };

/** A `/`-separated path pattern with Docker's `**` (zero or more directories), as a test. */
export function compilePattern(source: string): (file: string) => boolean {
  const tokens = tokenize(source, true);
  // Docker treats a pattern that is `**` then only plain characters (no escapes) as a suffix
  // test, so `**.log` matches `a/b.log` and `**foo` matches `barfoo`, not just whole names.
  if (tokens[0]?.kind === 'dirs' && !source.includes('\\') && tokens.slice(1).every((t) => t.kind === 'char')) {
    const suffix = source.slice(2);
    return (file) => file.endsWith(suffix) || (suffix.startsWith('/') && file === suffix.slice(1));
  }
  return (file) => matchTokens(tokens, Array.from(file));
}

/**
 * Go's filepath.Match for one path component (`*`, `?`, `[a-z]`, `[^…]`, `\` escapes), as COPY
 * sources and `rm` paths use it; a malformed pattern matches nothing, as Go's error does.
 */
export function matchComponent(pattern: string, name: string): boolean {
  let tokens = componentCache.get(pattern);
  if (tokens === undefined) {
    try {
      tokens = tokenize(pattern, false);
    } catch (err) {
      if (!(err instanceof PatternError)) throw err;
      tokens = null;
    }
    componentCache.set(pattern, tokens);
  }
  return tokens !== null && matchTokens(tokens, Array.from(name));
}

const componentCache = new Map<string, Token[] | null>();

export function hasWildcard(p: string): boolean {
  return /[*?[\\]/.test(p);
}

function badPattern(source: string, why: string): PatternError {
  return new PatternError(source, why);
}

/** Parses with Go filepath.Match syntax, rejecting what it rejects, plus (with `doubleStar`) Docker's `**`. */
function tokenize(source: string, doubleStar: boolean): Token[] {
  const chars = Array.from(source);
  const tokens: Token[] = [];
  let i = 0;
  while (i < chars.length) {
    const ch = chars[i++]!;
    if (ch === '*') {
      if (!doubleStar || chars[i] !== '*') {
        tokens.push({ kind: 'star' });
        continue;
      }
      i++;
      if (chars[i] === '/') i++;
      tokens.push({ kind: i === chars.length ? 'rest' : 'dirs' });
    } else if (ch === '?') {
      tokens.push({ kind: 'any' });
    } else if (ch === '\\') {
      if (i === chars.length) throw badPattern(source, 'it ends with a lone backslash');
      tokens.push({ kind: 'char', ch: chars[i++]! });
    } else if (ch === '[') {
      const parsed = parseClass(chars, i, source);
      tokens.push(parsed.token);
      i = parsed.next;
    } else {
      tokens.push({ kind: 'char', ch });
    }
  }
  return tokens;
}

/** A `[...]` class starting after the `[`: `^` negates, `a-z` ranges, `\` escapes, `]` closes. */
function parseClass(chars: string[], start: number, source: string): { token: Token; next: number } {
  let i = start;
  const negated = chars[i] === '^';
  if (negated) i++;
  const ranges: Array<[number, number]> = [];
  const member = (): number => {
    let ch = chars[i];
    if (ch === undefined) throw badPattern(source, 'a character class "[" is not closed with "]"');
    if (ch === '-' || ch === ']') throw badPattern(source, `"${ch}" cannot start a range in a character class`);
    if (ch === '\\') {
      ch = chars[++i];
      if (ch === undefined) throw badPattern(source, 'a character class "[" is not closed with "]"');
    }
    i++;
    if (i === chars.length) throw badPattern(source, 'a character class "[" is not closed with "]"');
    return ch.codePointAt(0)!;
  };
  for (;;) {
    if (chars[i] === ']' && ranges.length > 0) return { token: { kind: 'class', negated, ranges }, next: i + 1 };
    const lo = member();
    let hi = lo;
    if (chars[i] === '-') {
      i++;
      hi = member();
    }
    ranges.push([lo, hi]);
  }
}

function matchTokens(tokens: Token[], text: string[]): boolean {
  // Failed (token, position) pairs, so `**` and `*` runs stay polynomial.
  const failed = new Set<number>();
  const width = text.length + 1;
  const go = (t: number, i: number): boolean => {
    if (t === tokens.length) return i === text.length;
    const key = t * width + i;
    if (failed.has(key)) return false;
    const ok = step(tokens[t]!, t, i);
    if (!ok) failed.add(key);
    return ok;
  };
  const step = (tok: Token, t: number, i: number): boolean => {
    switch (tok.kind) {
      case 'rest':
        return true;
      case 'star':
        for (let j = i; ; j++) {
          if (go(t + 1, j)) return true;
          if (j === text.length || text[j] === '/') return false;
        }
      case 'dirs':
        if (go(t + 1, i)) return true;
        for (let j = i; j < text.length; j++) if (text[j] === '/' && go(t + 1, j + 1)) return true;
        return false;
      case 'any':
        return i < text.length && text[i] !== '/' && go(t + 1, i + 1);
      case 'char':
        return text[i] === tok.ch && go(t + 1, i + 1);
      case 'class': {
        if (i >= text.length) return false;
        const cp = text[i]!.codePointAt(0)!;
        const inside = tok.ranges.some(([lo, hi]) => lo <= cp && cp <= hi);
        return inside !== tok.negated && go(t + 1, i + 1);
      }
    }
  };
  return go(0, 0);
}
