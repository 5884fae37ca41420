// Heredoc markers (`<<EOF`, `<<-EOF`, `<<"EOF"`) in RUN/COPY/ADD lines: which words open one, the
// delimiter name, whether the body is expanded. Reading the bodies is the parser's job.

/** What a `<<WORD` marker says about its heredoc, before the body is read. */
export interface HeredocMarker {
  name: string;
  expand: boolean;
  chomp: boolean;
}

const marker = /^(\d*)<<(-?)([^<]*)$/;

/**
 * Splits a line into shell words the way the heredoc scan sees them: unquoted whitespace separates,
 * quotes and backslash escapes stay in the word. The escape here is always backslash, whatever the
 * `# escape=` directive says, as in BuildKit.
 */
function rawShellWords(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (/\s/.test(ch)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      continue;
    }
    inWord = true;
    if (ch === '\\') {
      word += line.slice(i, i + 2);
      i++;
    } else if (ch === "'" || ch === '"') {
      const end = closingQuote(line, i);
      word += line.slice(i, end + 1);
      i = end;
    } else {
      word += ch;
    }
  }
  if (inWord) words.push(word);
  return words;
}

/** Index of the quote closing the one at `open` (or the last index when unterminated). */
function closingQuote(text: string, open: number): number {
  const q = text[open]!;
  for (let i = open + 1; i < text.length; i++) {
    if (q === '"' && text[i] === '\\') {
      i++;
      continue;
    }
    if (text[i] === q) return i;
  }
  return text.length - 1;
}

/** Removes shell quoting from a delimiter word; reports whether any quoting was present. */
function unquote(word: string): { text: string; quoted: boolean } {
  let text = '';
  let quoted = false;
  for (let i = 0; i < word.length; i++) {
    const ch = word[i]!;
    if (ch === '\\') {
      text += word[i + 1] ?? '';
      i++;
    } else if (ch === "'") {
      const end = closingQuote(word, i);
      text += word.slice(i + 1, end);
      quoted = true;
      i = end;
    } else if (ch === '"') {
      const end = closingQuote(word, i);
      text += word.slice(i + 1, end).replace(/\\(["\\$`])/g, '$1');
      quoted = true;
      i = end;
    } else {
      text += ch;
    }
  }
  return { text, quoted };
}

/** The heredoc a single word opens, if it is a `<<NAME` / `<<-NAME` marker. */
export function parseHeredocWord(word: string): HeredocMarker | undefined {
  const m = marker.exec(word);
  if (!m || m[3] === '') return undefined;
  const { text, quoted } = unquote(m[3]!);
  if (text === '') return undefined;
  return { name: text, expand: !quoted, chomp: m[2] === '-' };
}

/** The heredocs a line opens, in the order their bodies follow it. */
export function heredocMarkers(line: string): HeredocMarker[] {
  const found: HeredocMarker[] = [];
  for (const word of rawShellWords(line)) {
    const h = parseHeredocWord(word);
    if (h) found.push(h);
  }
  return found;
}

/** `<<-` bodies lose the leading tabs of every line. */
export function chompHeredoc(content: string): string {
  return content.replace(/^\t+/gm, '');
}
