// Go's filepath.Match for one path component (`*`, `?`, `[a-z]`, `[^…]`, `\` escapes), which is
// what COPY sources and `rm` paths use for wildcards.

export function hasWildcard(p: string): boolean {
  return /[*?[\\]/.test(p);
}

/** Whether `name` (no `/`) matches `pattern`; a malformed pattern matches nothing, as Go's errors do. */
export function matchComponent(pattern: string, name: string): boolean {
  const re = toRegExp(pattern);
  return re !== undefined && re.test(name);
}

const cache = new Map<string, RegExp | undefined>();

function toRegExp(pattern: string): RegExp | undefined {
  if (cache.has(pattern)) return cache.get(pattern);
  let src = '^';
  let ok = true;
  for (let i = 0; i < pattern.length && ok; i++) {
    const ch = pattern[i]!;
    if (ch === '*') src += '[^/]*';
    else if (ch === '?') src += '[^/]';
    else if (ch === '\\') {
      if (i + 1 >= pattern.length) ok = false;
      else src += escape(pattern[++i]!);
    } else if (ch === '[') {
      const close = classEnd(pattern, i + 1);
      if (close < 0) ok = false;
      else {
        let body = pattern.slice(i + 1, close);
        const negated = body.startsWith('^');
        if (negated) body = body.slice(1);
        src += `[${negated ? '^' : ''}${classBody(body)}]`;
        i = close;
      }
    } else src += escape(ch);
  }
  const re = ok ? new RegExp(src + '$', 's') : undefined;
  cache.set(pattern, re);
  return re;
}

function classEnd(pattern: string, start: number): number {
  let i = start;
  if (pattern[i] === '^') i++;
  for (let first = true; i < pattern.length; i++, first = false) {
    if (pattern[i] === '\\') i++;
    else if (pattern[i] === ']' && !first) return i;
  }
  return -1;
}

/** A class body for a JS class: ranges (`a-z`) kept, Go escapes and JS-special characters escaped. */
function classBody(body: string): string {
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i] === '\\' ? body[++i] ?? '' : body[i]!;
    out += body[i - 1] === '\\' || c === ']' || c === '^' || c === '[' ? escape(c) : c;
  }
  return out;
}

function escape(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}
