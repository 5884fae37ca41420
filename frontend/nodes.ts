// The shapes between reading lines and understanding instructions: one Node per instruction as written,
// with its continuation lines joined and its heredoc bodies attached.

/** Where an instruction sits in its file: 1-based, inclusive, heredoc bodies included. */
export interface SourceRange {
  file: string;
  startLine: number;
  endLine: number;
}

export interface Heredoc {
  /** The delimiter with its quotes removed (`<<"EOF"` has name `EOF`). */
  name: string;
  /** Body lines joined with "\n", each ending with "\n"; leading tabs already stripped when `chomp`. */
  content: string;
  /** False when the delimiter was quoted: the body is then taken literally, no `$VAR` expansion. */
  expand: boolean;
  /** True for `<<-`. */
  chomp: boolean;
}

export interface Node {
  /** The instruction name as written (any case). */
  keyword: string;
  /** Leading `--name[=value]` words, quotes removed, in order. */
  flags: string[];
  /** Everything after the keyword and the flags, trimmed. */
  args: string;
  /** The whole instruction line, continuations joined, trimmed. */
  original: string;
  heredocs: Heredoc[];
  range: SourceRange;
}
