// `local.followpaths` as BuildKit's context transfer reads them (fsutil's FollowLinks): each path
// is walked component by component over the context's scan, and a symlink met on the way (or
// matched by a wildcard component) adds both itself and its target, resolved as if the context
// were the root (`/x` and `../x` both mean the context's `x`), so a COPY that follows a link also
// receives, and is keyed on, what the link points at.
import path from 'node:path';
import type { TreeEntry } from '../../native/scan-tree.js';
import { hasWildcard, matchComponent } from '../../patterns/glob.js';

/** The scan of a context, looked up by path. */
export interface TreeIndex {
  get(rel: string): TreeEntry | undefined;
  /** The names directly inside directory `rel` ('' for the root). */
  children(rel: string): string[];
}

export function indexTree(entries: TreeEntry[]): TreeIndex {
  const byRel = new Map<string, TreeEntry>();
  for (const e of entries) byRel.set(e.rel, e);
  let kids: Map<string, string[]> | undefined;
  return {
    get: (rel) => byRel.get(rel),
    children(rel) {
      if (!kids) {
        // Built only when a followed path has a wildcard.
        kids = new Map();
        for (const e of entries) {
          const slash = e.rel.lastIndexOf('/');
          const parent = slash < 0 ? '' : e.rel.slice(0, slash);
          let list = kids.get(parent);
          if (!list) kids.set(parent, (list = []));
          list.push(slash < 0 ? e.rel : e.rel.slice(slash + 1));
        }
      }
      return kids.get(rel) ?? [];
    },
  };
}

/** A path inside the context, cleaned, `..` stopping at the root; '' is the root itself. */
function inContext(p: string): string {
  return path.posix.join('/', p).slice(1);
}

/**
 * The include paths `paths` amount to once their symlinks are followed: the paths themselves
 * (wildcards kept as patterns), every link on the way and every link target, sorted, with paths
 * below another one dropped; undefined when the whole context is selected.
 */
export function followLinks(tree: TreeIndex, paths: string[]): string[] | undefined {
  const resolved = new Set<string>();
  const targetsOf = (p: string, allowWildcard: boolean): string[] | undefined => {
    const base = path.posix.basename(p);
    if (allowWildcard && hasWildcard(base)) {
      const dir = path.posix.dirname(p);
      const out: string[] = [];
      for (const name of tree.children(dir === '.' ? '' : dir)) {
        if (matchComponent(base, name)) out.push(...(targetsOf(dir === '.' ? name : `${dir}/${name}`, false) ?? []));
      }
      return out.length > 0 ? out : undefined;
    }
    const e = tree.get(p);
    if (e?.kind !== 'symlink' || e.linkTarget === undefined) return undefined;
    return [e.linkTarget.startsWith('/') ? e.linkTarget : path.posix.join(path.posix.dirname(p), e.linkTarget)];
  };
  const follow = (p: string): void => {
    let rest = inContext(p);
    let current = '';
    for (;;) {
      const slash = rest.indexOf('/');
      const head = slash < 0 ? rest : rest.slice(0, slash);
      rest = slash < 0 ? '' : rest.slice(slash + 1);
      current = current === '' ? head : `${current}/${head}`;
      const targets = current === '' ? undefined : targetsOf(current, true);
      // A link seen before ends the walk: that is what stops link cycles.
      if ((rest === '' || targets) && resolved.has(current)) return;
      if (targets) {
        resolved.add(current);
        for (const t of targets) follow(path.posix.join(t, rest));
        return;
      }
      if (rest === '') {
        resolved.add(current);
        return;
      }
    }
  };
  for (const p of paths) follow(p);
  if (resolved.has('')) return undefined;
  const out: string[] = [];
  for (const p of [...resolved].sort()) {
    const last = out[out.length - 1];
    if (last === undefined || !p.startsWith(`${last}/`)) out.push(p);
  }
  return out;
}
