// Docker's selection of a tree's entries by include and exclude patterns (the context for a local
// source, a directory for COPY): an entry is selected when an include pattern (if any) matches it
// and no exclude does; a directory also stays when it leads to something selected.
import type { PatternMatcher } from '../../patterns/matcher.js';
import type { TreeEntry } from '../../native/scan-tree.js';

export interface Filters {
  include?: PatternMatcher;
  exclude?: PatternMatcher;
}

/** The entries kept from a pre-order scan (parents before children), in the same order. */
export function selectEntries<T extends TreeEntry>(entries: T[], f: Filters): T[] {
  if (!f.include && !f.exclude) return entries;
  // A pattern that matches a directory matches everything below it, so without `!` lines a
  // directory's verdict is inherited instead of matching each of its (maybe thousands of) entries.
  const includeInherits = f.include !== undefined && !f.include.exclusions;
  const excludeInherits = f.exclude !== undefined && !f.exclude.exclusions;
  const includedDirs = new Set<string>();
  const excludedDirs = new Set<string>();
  const selected: boolean[] = new Array(entries.length).fill(false);
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    const slash = e.rel.lastIndexOf('/');
    const parent = slash > 0 ? e.rel.slice(0, slash) : '';
    const excluded = excludeInherits && excludedDirs.has(parent) ? true : (f.exclude?.matches(e.rel) ?? false);
    const included = includeInherits && includedDirs.has(parent) ? true : (f.include?.matches(e.rel) ?? true);
    if (e.kind === 'dir') {
      if (excluded) excludedDirs.add(e.rel);
      if (included) includedDirs.add(e.rel);
    }
    selected[i] = included && !excluded;
  }
  const keep: boolean[] = new Array(entries.length).fill(false);
  const leadsSomewhere = new Set<string>();
  // Backwards, every child is seen before its parent, so a parent knows whether anything below stays.
  for (let i = entries.length - 1; i >= 0; i--) {
    const e = entries[i]!;
    if (!selected[i] && !(e.kind === 'dir' && leadsSomewhere.has(e.rel))) continue;
    keep[i] = true;
    const slash = e.rel.lastIndexOf('/');
    if (slash > 0) leadsSomewhere.add(e.rel.slice(0, slash));
  }
  return entries.filter((_, i) => keep[i]);
}
