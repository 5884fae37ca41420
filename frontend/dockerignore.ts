// .dockerignore: reading the file Docker would pick, parsing its lines, and matching context paths
// against its patterns with Docker's rules (Go filepath.Match syntax, `**`, parent directories,
// `!` exceptions where the last matching line wins).
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { cleanPath } from '../patterns/clean-path.js';
import { PatternMatcher } from '../patterns/matcher.js';
import { PatternError } from '../patterns/errors.js';
import { UserError } from '../errors/kiln-error.js';

export class DockerignoreError extends UserError {
  readonly code = 'KILN_DOCKERIGNORE';
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
    const patterns = parseDockerignore(text);
    try {
      // Checked here, where the file can be named, rather than when the solver selects files.
      new PatternMatcher(patterns);
    } catch (err) {
      if (err instanceof PatternError) throw new DockerignoreError(`${file}: ${err.message}`);
      throw err;
    }
    return patterns;
  }
  return [];
}
