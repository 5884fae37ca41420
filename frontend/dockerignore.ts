// .dockerignore: reading the file Docker would pick, parsing its lines, and matching context paths
// against its patterns with Docker's rules (Go filepath.Match syntax, `**`, parent directories,
// `!` exceptions where the last matching line wins).
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { cleanPath } from './clean-path.js';

export class DockerignoreError extends Error {
  readonly code = 'KILN_DOCKERIGNORE';
  readonly userFacing = true;
  constructor(message: string) {
    super(message);
    this.name = 'DockerignoreError';
  }
}

/**
 * The patterns of a .dockerignore file: lines starting with `#` (in the first column) and blank
 * lines dropped, each pattern trimmed and cleaned like Go's filepath.Clean, a leading `/` removed
 * (the context root is the only root), `!` kept in front.
 */
export function parseDockerignore(text: string): string[] {
  const patterns: string[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  for (const line of lines) {
    if (line.startsWith('#')) continue;
    let pattern = line.trim();
    if (pattern === '') continue;
    const invert = pattern.startsWith('!');
    if (invert) pattern = pattern.slice(1).trim();
    if (pattern !== '') {
      pattern = cleanPath(pattern);
      if (pattern.length > 1 && pattern.startsWith('/')) pattern = pattern.slice(1);
    }
    patterns.push(invert ? `!${pattern}` : pattern);
  }
  return patterns;
}

/**
 * Prefers `<Dockerfile>.dockerignore` beside the Dockerfile (e.g. `app.Dockerfile.dockerignore`),
 * else `<context>/.dockerignore`; no file means no patterns.
 */
export async function readDockerignore(contextDir: string, dockerfilePath?: string): Promise<string[]> {
  const candidates = [path.join(contextDir, '.dockerignore')];
  if (dockerfilePath !== undefined) candidates.unshift(`${path.resolve(dockerfilePath)}.dockerignore`);
  for (const file of candidates) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') continue;
      throw new DockerignoreError(`cannot read ignore file ${file} (${code ?? (err as Error).message}); fix its permissions or remove it`);
    }
    return parseDockerignore(text);
  }
  return [];
}

export class PatternMatcher {
  /** True when any pattern re-includes (`!`), so callers cannot skip excluded directories whole. */
  readonly exclusions: boolean;
  private readonly patterns: CompiledPattern[];

  constructor(patterns: string[]) {
    this.patterns = [];
    for (const raw of patterns) {
      const trimmed = raw.trim();
      if (trimmed === '') continue;
      let source = cleanPath(trimmed);
      const exclusion = source.startsWith('!');
      if (exclusion) {
        if (source.length === 1) throw new DockerignoreError('invalid .dockerignore pattern "!": an exception needs a path after the "!"');
        source = source.slice(1);
      }
      this.patterns.push({ exclusion, matches: compilePattern(source) });
    }
    this.exclusions = this.patterns.some((p) => p.exclusion);
  }

  /**
   * Whether the context path (relative, `/`-separated) is ignored. A pattern that matches one of
   * the path's parent directories matches the path too, so `node_modules` covers everything below.
   */
  matches(relPath: string): boolean {
    const file = cleanPath(relPath).replace(/^\/+/, '');
    if (file === '.' || file === '') return false;
    const parents = file.split('/').slice(0, -1);
    let matched = false;
    for (const pattern of this.patterns) {
      // Only a pattern that could change the outcome needs testing: the last match wins.
      if (pattern.exclusion !== matched) continue;
      let hit = pattern.matches(file);
      for (let i = 1; !hit && i <= parents.length; i++) hit = pattern.matches(parents.slice(0, i).join('/'));
      if (hit) matched = !pattern.exclusion;
    }
    return matched;
  }
}

interface CompiledPattern {
  exclusion: boolean;
  matches: (file: string) => boolean;
}

// ---- pattern compilation -------------------------------------------------------------------

type Token =
  | { kind: 'char'; ch: string }
  | { kind: 'star' } // `*`: any run without `/`
  | { kind: 'any' } // `?`: one character but `/`
  | { kind: 'dirs' } // `**` (and a `/` after it): zero or more whole directories
  | { kind: 'rest' } // `**` at the end: anything
  | { kind: 'class'; negated: boolean; ranges: Array<[number, number]> };

function compilePattern(source: string): (file: string) => boolean {
  const tokens = tokenize(source);
  // Docker treats a pattern that is `**` then only plain characters (no escapes) as a suffix
  // test, so `**.log` matches `a/b.log` and `**foo` matches `barfoo`, not just whole names.
  if (tokens[0]?.kind === 'dirs' && !source.includes('\\') && tokens.slice(1).every((t) => t.kind === 'char')) {
    const suffix = source.slice(2);
    return (file) => file.endsWith(suffix) || (suffix.startsWith('/') && file === suffix.slice(1));
  }
  return (file) => matchTokens(tokens, Array.from(file));
}

function badPattern(source: string, why: string): DockerignoreError {
  return new DockerignoreError(`invalid .dockerignore pattern ${JSON.stringify(source)}: ${why}; fix or escape it with \\`);
}

/** Parses with Go filepath.Match syntax, rejecting what it rejects, plus Docker's `**`. */
function tokenize(source: string): Token[] {
  const chars = Array.from(source);
  const tokens: Token[] = [];
  let i = 0;
  while (i < chars.length) {
    const ch = chars[i++]!;
    if (ch === '*') {
      if (chars[i] !== '*') {
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
