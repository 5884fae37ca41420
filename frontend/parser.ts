// Dockerfile text → Nodes: BOM and CRLF, directives, comments, line continuations (the escape character
// at line end), comment and blank lines inside continuations, and heredoc bodies after their line.

import { DirectiveReader, type Directives } from './directives.js';
import { DockerfileError, DockerfileErrorCode } from './errors.js';
import { chompHeredoc, heredocMarkers } from './heredoc.js';
import type { Heredoc, Node } from './nodes.js';
import { parseJsonArray } from './words.js';

export interface ParsedLines {
  directives: Directives;
  nodes: Node[];
}

interface SplitLine {
  keyword: string;
  flags: string[];
  args: string;
}

/** Splits a joined instruction line into its keyword, leading `--flags` and the rest. */
export function splitCommand(line: string): SplitLine {
  const trimmed = line.trim();
  const m = /[\t\v\f\r ]+/.exec(trimmed);
  if (!m) return { keyword: trimmed, flags: [], args: '' };
  const { flags, rest } = extractFlags(trimmed.slice(m.index + m[0].length));
  return { keyword: trimmed.slice(0, m.index), flags, args: rest.trim() };
}

/**
 * Takes the leading words that start with `--` (quotes removed, backslash escapes honoured) and
 * returns them with the text that follows. A bare `--` ends the flags and is dropped.
 */
function extractFlags(line: string): { flags: string[]; rest: string } {
  const flags: string[] = [];
  let pos = 0;
  for (;;) {
    while (pos < line.length && /\s/.test(line[pos]!)) pos++;
    if (pos >= line.length) return { flags, rest: '' };
    if (!line.startsWith('--', pos)) return { flags, rest: line.slice(pos) };
    let word = '';
    let quote = '';
    let quotedOnce = false;
    for (; pos < line.length; pos++) {
      const ch = line[pos]!;
      if (quote === '') {
        if (/\s/.test(ch)) break;
        if (ch === "'" || ch === '"') {
          quote = ch;
          quotedOnce = true;
          continue;
        }
      } else if (ch === quote) {
        quote = '';
        continue;
      }
      if (ch === '\\') {
        if (pos + 1 === line.length) continue;
        pos++;
        word += line[pos]!;
        continue;
      }
      word += line[pos]!;
    }
    if (word === '--') return { flags, rest: line.slice(pos) };
    if (word.length > 0 || quotedOnce) flags.push(word);
  }
}

const heredocKeywords = new Set(['run', 'copy', 'add']);

/** BuildKit reads heredoc bodies only for RUN/COPY/ADD (also as ONBUILD triggers) in shell form. */
function takesHeredocs(split: SplitLine): boolean {
  let { keyword, args } = split;
  if (keyword.toLowerCase() === 'onbuild') ({ keyword, args } = splitCommand(args));
  if (!heredocKeywords.has(keyword.toLowerCase())) return false;
  return parseJsonArray(args).kind !== 'strings';
}

/**
 * BuildKit's rule: a line continues when it ends with the escape character (spaces and tabs after
 * it allowed) that is not itself escaped, i.e. not preceded by another escape character. So
 * `C:\\Windows\\` ends the instruction. Returns the line without that escape, and whether it ended.
 */
function continuationCut(line: string, escape: string): [string, boolean] {
  const m = /[ \t]*$/.exec(line)!;
  const at = m.index - 1;
  if (at < 0 || line[at] !== escape || line[at - 1] === escape) return [line, true];
  return [line.slice(0, at), false];
}

function isComment(text: string): boolean {
  return text.trimStart().startsWith('#');
}

export function parseLines(text: string, file: string): ParsedLines {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.endsWith('\r')) lines[i] = lines[i]!.slice(0, -1);
  }
  if (lines.length > 0 && lines[0]!.startsWith('\uFEFF')) lines[0] = lines[0]!.slice(1);

  const reader = new DirectiveReader(file);
  const nodes: Node[] = [];
  let next = 0; // index of the next unread line; line numbers are index + 1

  while (next < lines.length) {
    const startLine = next + 1;
    const first = lines[next++]!.trimStart();
    reader.feed(first, startLine);
    const escape = reader.directives.escape;
    let [line, ended] = continuationCut(isComment(first) ? '' : first, escape);
    if (ended && line === '') continue;
    while (!ended && next < lines.length) {
      const raw = lines[next++]!;
      if (isComment(raw) || raw.trim() === '') continue;
      let part: string;
      [part, ended] = continuationCut(raw, escape);
      line += part;
    }

    const split = splitCommand(line);
    const heredocs: Heredoc[] = [];
    if (line.includes('<<') && takesHeredocs(split)) {
      for (const marker of heredocMarkers(line)) {
        let content = '';
        let terminated = false;
        while (next < lines.length) {
          const body = lines[next++]!;
          const candidate = marker.chomp ? body.replace(/^\t+/, '') : body;
          if (candidate.replace(/[\r\n]+$/, '') === marker.name) {
            terminated = true;
            break;
          }
          content += body + '\n';
        }
        if (!terminated) {
          throw new DockerfileError(file, startLine,
            `unterminated heredoc <<${marker.chomp ? '-' : ''}${marker.name} (opened on line ${startLine}): ` +
            `end its body with a line holding only ${marker.name}`, DockerfileErrorCode.heredoc);
        }
        heredocs.push({
          name: marker.name,
          content: marker.chomp ? chompHeredoc(content) : content,
          expand: marker.expand,
          chomp: marker.chomp,
        });
      }
    }

    nodes.push({
      ...split,
      original: line.trim(),
      heredocs,
      range: { file, startLine, endLine: next },
    });
  }
  return { directives: reader.directives, nodes };
}
