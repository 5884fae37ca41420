// Selecting the build context's files for a local source: one native walk of the context dir
// (symlinks kept as links) per build, filtered by include/exclude patterns in memory, and each
// selected file's content digest, hashed in parallel by the Rust core unless the store's metadata
// cache already knows it for the same path, size, mtime and inode.
import { createHash } from 'node:crypto';
import path from 'node:path';
import { PatternMatcher } from '../../frontend/dockerignore.js';
import { native, type TreeEntry } from '../../native/binding.js';
import { scanTree } from '../../native/scan-tree.js';
import { isWithin, resolveInRoot } from './root-path.js';
import { readRecords, writeRecords, type DigestRecords } from './digest-records.js';
import { selectEntries } from './tree-select.js';

export interface ContextEntry extends TreeEntry {
  kind: 'file' | 'dir' | 'symlink';
  /** `sha256:` of a file's content; absent for the others. */
  digest?: string;
}

export interface Selection {
  includes: string[];
  excludes: string[];
  followPaths: string[];
}

interface ContextState {
  entries: ContextEntry[];
  cacheFile: string;
  records: DigestRecords;
}

// One walk of a context per build (the key of the outer map), shared by every local source and
// by both the cache-key and the run phase of each.
const builds = new WeakMap<object, Map<string, Promise<ContextState>>>();

/** The entries the selection keeps, sorted by path, parents before children, files with digests. */
export async function selectContext(build: object, contextDir: string, sel: Selection, cacheDir: string): Promise<ContextEntry[]> {
  let perBuild = builds.get(build);
  if (!perBuild) builds.set(build, (perBuild = new Map()));
  let pending = perBuild.get(contextDir);
  if (!pending) perBuild.set(contextDir, (pending = loadContext(contextDir, cacheDir)));
  const state = await pending;

  const includes = [...sel.includes, ...(await followedTargets(contextDir, sel.followPaths))];
  const picked = selectEntries(state.entries, {
    include: includes.length > 0 ? new PatternMatcher(includes) : undefined,
    exclude: sel.excludes.length > 0 ? new PatternMatcher(sel.excludes) : undefined,
  });

  const missing: ContextEntry[] = [];
  for (const e of picked) {
    if (e.kind !== 'file' || e.digest !== undefined) continue;
    const known = state.records.lookup(e);
    if (known !== undefined) e.digest = known;
    else missing.push(e);
  }
  if (missing.length > 0) {
    const digests = await native.sha256Files(missing.map((e) => path.join(contextDir, e.rel)));
    missing.forEach((e, i) => {
      e.digest = digests[i]!;
      state.records.add(e, e.digest);
    });
    // Written only when something was hashed: a no-op rebuild writes nothing here.
    await writeRecords(state.cacheFile, contextDir, state.records, state.entries.map((e) => e.rel));
  }
  return picked;
}

async function loadContext(contextDir: string, cacheDir: string): Promise<ContextState> {
  const [entries, records] = await Promise.all([scanTree(contextDir), readRecords(cacheFileOf(cacheDir, contextDir), contextDir)]);
  return { entries: entries as ContextEntry[], cacheFile: cacheFileOf(cacheDir, contextDir), records };
}

function cacheFileOf(cacheDir: string, contextDir: string): string {
  return path.join(cacheDir, `${createHash('sha256').update(contextDir).digest('hex').slice(0, 32)}.json`);
}

/** Context paths named by `local.followpaths` that are symlinks: their targets (inside the context) are selected too. */
async function followedTargets(contextDir: string, followPaths: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const p of followPaths) {
    const target = await resolveInRoot(contextDir, p);
    if (isWithin(contextDir, target)) out.push(path.relative(contextDir, target).split(path.sep).join('/') || '.');
  }
  return out.filter((p) => p !== '.');
}
