// Parser directives (`# syntax=`, `# escape=`, `# check=`): recognised only in the comment lines that
// open the file; the first line that is not one (blank, other comment, instruction) ends them.

import { DockerfileError, DockerfileErrorCode } from './errors.js';
import type { Escape } from './words.js';

export interface Directives {
  syntax?: string;
  escape: Escape;
  check?: string;
}

const directiveLine = /^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$/;
const known = new Set(['syntax', 'escape', 'check']);

export class DirectiveReader {
  readonly directives: Directives = { escape: '\\' };
  private done = false;
  private readonly seen = new Set<string>();

  constructor(private readonly file: string) {}

  /** Feeds one line, left-trimmed, in file order; `line` is its 1-based number. */
  feed(text: string, line: number): void {
    if (this.done) return;
    const match = directiveLine.exec(text);
    const key = match?.[1]?.toLowerCase();
    if (!match || key === undefined || !known.has(key)) {
      this.done = true;
      return;
    }
    if (this.seen.has(key)) {
      throw new DockerfileError(this.file, line,
        `only one "${key}" parser directive can be used: remove this one`, DockerfileErrorCode.directive);
    }
    this.seen.add(key);
    const value = match[2]!;
    if (key === 'escape') {
      if (value !== '\\' && value !== '`') {
        throw new DockerfileError(this.file, line,
          `invalid escape character "${value}": use \\ or \``, DockerfileErrorCode.directive);
      }
      this.directives.escape = value;
    } else if (key === 'syntax') {
      this.directives.syntax = value;
    } else {
      this.directives.check = value;
    }
  }
}
