// Go's path.Clean and path.Join for the paths inside ops: the digest depends on the exact
// string, so it must match what BuildKit's Go client writes (Node keeps trailing slashes).
import path from 'node:path';

export function goClean(p: string): string {
  const n = path.posix.normalize(p);
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
}

export function goJoin(...parts: string[]): string {
  const kept = parts.filter((s) => s !== '');
  return kept.length ? goClean(kept.join('/')) : '';
}

/**
 * An absolute, clean path for a file action. `keepSlash` keeps a trailing `/` or `/.` of a copy
 * destination, which tells the copy to go into a directory.
 */
export function normalizePath(p: string, keepSlash: boolean): string {
  let out = goClean(p);
  if (!out.startsWith('/')) out = goJoin('/', out);
  if (keepSlash) {
    if (p.endsWith('/') && !out.endsWith('/')) out += '/';
    else if (p.endsWith('/.')) out = (out === '/' ? '/' : out + '/') + '.';
  }
  return out;
}
