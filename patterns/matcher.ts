// Docker's pattern matcher (moby's patternmatcher): context paths against .dockerignore or
// COPY --exclude patterns, where a pattern matching a parent covers what is below and the last
// matching line wins, so `!` lines re-include.
import { cleanPath } from './clean-path.js';
import { PatternError } from './errors.js';
import { compilePattern } from './glob.js';

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
        if (source.length === 1) throw new PatternError('!', 'an exception needs a path after the "!"');
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

