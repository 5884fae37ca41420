// Selecting the build context's files for a local source: one native walk of the context dir
// (symlinks kept as links) per build, filtered in memory by include/exclude patterns and followed
// paths (which add the targets of their links), and each selected file's content digest, hashed
// in parallel by the Rust core unless the store's metadata cache already knows it for the same
// path, size, mtime and inode. A rebuild of an unchanged context (same fingerprint) reuses its
// content keys without selecting or reading anything.
import { createHash } from 'node:crypto';
import path from 'node:path';
import { PatternMatcher } from '../../patterns/matcher.js';
import { native } from '../../native/binding.js';
import type { TreeEntry } from '../../native/scan-tree.js';
import { scanTreeLazily, type TreeScan } from '../../native/scan-tree.js';
import { followLinks, indexTree, type TreeIndex } from './follow-links.js';
import { readKeyMemo, readRecords, writeKeyMemo, writeRecords, type DigestRecords, type KeyMemo } from './digest-records.js';
import { selectEntries } from './tree-select.js';
import { sha256Digest } from '../../oci/digest.js';

export interface ContextEntry extends TreeEntry {
  /** `sha256:` of a file's content; absent for the others. */
  digest?: string;
}

export interface Selection {
  includes: string[];
  excludes: string[];
  followPaths: string[];
}

interface ContextState {
  scan: TreeScan;
  cacheFile: string;
  /** Read on first need: a rebuild that reuses its keys never parses the digest records. */
  records?: Promise<DigestRecords>;
  keysFile: string;
  keys: KeyMemo;
  /** The scan by path, for resolving followed links; built on first need. */
  index?: TreeIndex;
}

/** What a build knows of its context: the directory, and maybe a walk of it begun early. */
export interface ContextEnv {
  contextDir: string;
  /** From `startContextScan(contextDir)`. */
  contextScan?: Promise<TreeScan>;
}

/**
 * Begins the walk of a build's context while the Dockerfile is still being compiled (the walk
 * runs on the libuv pool); hand the result to the solve as `SolveEnv.contextScan`.
 */
export function startContextScan(contextDir: string): Promise<TreeScan> {
  const scan = scanTreeLazily(contextDir);
  // A build that fails before it needs the walk must not fail again with the walk's error.
  scan.catch(() => undefined);
  return scan;
}

// One walk of the context per build (the key), shared by every local source and by both the
// cache-key and the run phase of each.
const builds = new WeakMap<ContextEnv, Promise<ContextState>>();

function stateOf(build: ContextEnv, cacheDir: string): Promise<ContextState> {
  let pending = builds.get(build);
  if (!pending) builds.set(build, (pending = loadContext(build, cacheDir)));
  return pending;
}

/**
 * The content key of a selection: a checksum of exactly the selected entries (paths, kinds,
 * modes, owners, sizes, link targets, device numbers, content digests; never mtimes). When the context's
 * fingerprint is the one the key was computed for, the recorded key is reused as it is.
 */
export async function contextKey(build: ContextEnv, sel: Selection, cacheDir: string): Promise<string> {
  const state = await stateOf(build, cacheDir);
  const which = createHash('sha256').update(JSON.stringify([sel.includes, sel.excludes, sel.followPaths])).digest('hex');
  if (state.keys.fingerprint === state.scan.fingerprint && state.keys.keys[which]) return state.keys.keys[which];
  const key = checksum(await selectContext(build, sel, cacheDir));
  if (state.keys.fingerprint !== state.scan.fingerprint) state.keys = { fingerprint: state.scan.fingerprint, keys: {} };
  state.keys.keys[which] = key;
  await writeKeyMemo(state.keysFile, build.contextDir, state.keys);
  return key;
}

function checksum(list: ContextEntry[]): string {
  // One line per entry; NUL cannot occur in a path, so the fields cannot run into each other.
  const lines = list.map((e) => `${e.rel}\0${e.kind}\0${e.mode}\0${e.uid}\0${e.gid}\0${e.size}\0${e.linkTarget ?? ''}\0${e.digest ?? ''}\0${e.rdev}\n`);
  return sha256Digest(lines.join(''));
}

/** The entries the selection keeps, sorted by path, parents before children, files with digests. */
export async function selectContext(build: ContextEnv, sel: Selection, cacheDir: string): Promise<ContextEntry[]> {
  const { contextDir } = build;
  const state = await stateOf(build, cacheDir);
  const entries = state.scan.entries() as ContextEntry[];
  const records = await (state.records ??= readRecords(state.cacheFile, contextDir));
  const includes = includePaths(state, sel);
  const picked = selectEntries(entries, {
    include: includes !== undefined && includes.length > 0 ? new PatternMatcher(includes) : undefined,
    exclude: sel.excludes.length > 0 ? new PatternMatcher(sel.excludes) : undefined,
  });

  const missing: ContextEntry[] = [];
  for (const e of picked) {
    if (e.kind !== 'file' || e.digest !== undefined) continue;
    const known = records.lookup(e);
    if (known !== undefined) e.digest = known;
    else missing.push(e);
  }
  if (missing.length > 0) {
    const digests = await native.sha256Files(missing.map((e) => path.join(contextDir, e.rel)));
    missing.forEach((e, i) => {
      e.digest = digests[i]!;
      records.add(e, e.digest);
    });
    // Written only when something was hashed: a no-op rebuild writes nothing here.
    await writeRecords(state.cacheFile, contextDir, records, entries.map((e) => e.rel));
  }
  return picked;
}

async function loadContext({ contextDir, contextScan }: ContextEnv, cacheDir: string): Promise<ContextState> {
  const base = path.join(cacheDir, createHash('sha256').update(contextDir).digest('hex').slice(0, 32));
  const keysFile = `${base}.keys.json`;
  const [scan, keys] = await Promise.all([contextScan ?? scanTreeLazily(contextDir), readKeyMemo(keysFile, contextDir)]);
  return { scan, cacheFile: `${base}.json`, keysFile, keys };
}

/**
 * The include patterns with the followed paths' links resolved into them (BuildKit's FilterOpt);
 * undefined when a followed path selects the whole context.
 */
function includePaths(state: ContextState, sel: Selection): string[] | undefined {
  if (sel.followPaths.length === 0) return sel.includes;
  const followed = followLinks((state.index ??= indexTree(state.scan.entries())), sel.followPaths);
  return followed === undefined ? (sel.includes.length > 0 ? sel.includes : undefined) : [...sel.includes, ...followed];
}
