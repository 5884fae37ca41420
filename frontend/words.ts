// How Dockerfile argument text splits into words: JSON arrays (exec form), quote-aware words (ENV,
// LABEL, ARG) and plain whitespace fields (FROM, EXPOSE, COPY). Matches BuildKit's line parsers.

export type Escape = '\\' | '`';

export type JsonArray =
  | { kind: 'strings'; values: string[] }
  | { kind: 'not-json' }
  /** Valid JSON array holding something else than strings: BuildKit rejects it rather than falling back. */
  | { kind: 'not-strings' };

/** Reads `rest` as an exec-form array. Anything that is not a valid JSON array is `not-json` (shell form). */
export function parseJsonArray(rest: string): JsonArray {
  const text = rest.trimStart();
  if (!text.startsWith('[')) return { kind: 'not-json' };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { kind: 'not-json' };
  }
  if (!Array.isArray(value)) return { kind: 'not-json' };
  if (!value.every((v): v is string => typeof v === 'string')) return { kind: 'not-strings' };
  return { kind: 'strings', values: value };
}

/** Splits on runs of spaces and tabs (and \v \f \r), with no quote handling, as FROM/EXPOSE/COPY do. */
export function splitFields(rest: string): string[] {
  if (rest === '') return [];
  return rest.split(/[\t\v\f\r ]+/);
}

function isSpace(ch: string): boolean {
  return /^\s$/u.test(ch);
}

/**
 * Splits on unquoted whitespace, keeping quotes and escapes in the words (the later expansion step
 * removes them). Inside single quotes the escape character is literal. A lone trailing escape is dropped.
 */
export function parseWords(rest: string, escape: Escape): string[] {
  const words: string[] = [];
  const chars = Array.from(rest);
  let word = '';
  let inWord = false;
  let quote = '';
  let blankOk = false;
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i]!;
    if (!inWord) {
      if (isSpace(ch)) continue;
      inWord = true;
    }
    if (quote === '') {
      if (isSpace(ch)) {
        if (blankOk || word.length > 0) words.push(word);
        word = '';
        blankOk = false;
        inWord = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOk = true;
      }
      if (ch === escape) {
        if (i + 1 === chars.length) continue;
        word += ch;
        i++;
        word += chars[i]!;
        continue;
      }
      word += ch;
      continue;
    }
    // inside quotes
    if (ch === quote) {
      quote = '';
      word += ch;
      continue;
    }
    if (ch === escape && quote !== "'") {
      if (i + 1 === chars.length) {
        quote = '';
        continue;
      }
      word += ch;
      i++;
      word += chars[i]!;
      continue;
    }
    word += ch;
  }
  if (inWord && (blankOk || word.length > 0)) words.push(word);
  return words;
}
