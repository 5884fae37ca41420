// Selecting the build context's files for a local source: a walk of the context dir (symlinks
// kept as links, never followed out of it) filtered by include/exclude patterns, and each file's
// content digest, cached by path+size+mtime+inode so an unchanged file is not read again.
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, readlink, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PatternMatcher } from '../../frontend/dockerignore.js';
import { native } from '../../native/binding.js';
import { isWithin, resolveInRoot } from './root-path.js';

export interface ContextEntry {
  /** `/`-separated, relative to the context dir. */
  rel: string;
  type: 'file' | 'dir' | 'symlink';
  mode: number;
  uid: number;
  gid: number;
  size: number;
  linkTarget: string;
  /** `sha256:` of a file's content; '' for the others. */
  digest: string;
  mtimeMs: number;
}

export interface Selection {
  includes: string[];
  excludes: string[];
  followPaths: string[];
}

/** The entries the selection keeps, sorted by path, with parents before children. */
export async function selectContext(contextDir: string, sel: Selection, cacheFile: string): Promise<ContextEntry[]> {
  const includes = [...sel.includes, ...(await followedTargets(contextDir, sel.followPaths))];
  const include = includes.length > 0 ? new PatternMatcher(includes) : undefined;
  const exclude = sel.excludes.length > 0 ? new PatternMatcher(sel.excludes) : undefined;
  const picked: { host: string; entry: ContextEntry; ino: number }[] = [];

  const walk = async (dir: string, rel: string): Promise<boolean> => {
    let any = false;
    for (const name of (await readdir(dir)).sort()) {
      const childRel = rel === '' ? name : `${rel}/${name}`;
      const host = path.join(dir, name);
      const st = await lstat(host);
      const excluded = exclude?.matches(childRel) ?? false;
      // With no `!` exceptions nothing below an excluded directory can come back.
      if (excluded && !exclude!.exclusions) continue;
      const included = !excluded && (include?.matches(childRel) ?? true);
      const type = st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : st.isFile() ? 'file' : undefined;
      if (type === undefined) continue;
      const entry: ContextEntry = {
        rel: childRel, type, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid,
        size: type === 'file' ? st.size : 0,
        linkTarget: type === 'symlink' ? await readlink(host) : '',
        digest: '', mtimeMs: st.mtimeMs,
      };
      if (type === 'dir') {
        const at = picked.length;
        picked.push({ host, entry, ino: st.ino });
        // A directory stays when it is selected itself or is on the way to something selected.
        if (!(await walk(host, childRel)) && !included) picked.splice(at, 1);
        else any = true;
      } else if (included) {
        picked.push({ host, entry, ino: st.ino });
        any = true;
      }
    }
    return any;
  };
  await walk(contextDir, '');

  const cache = await readCache(cacheFile);
  const fresh: Record<string, string> = {};
  for (const p of picked) {
    if (p.entry.type !== 'file') continue;
    const key = `${p.host}\0${p.entry.size}\0${p.entry.mtimeMs}\0${p.ino}`;
    p.entry.digest = cache[key] ?? (await native.sha256File(p.host)).digest;
    fresh[key] = p.entry.digest;
  }
  await writeCache(cacheFile, contextDir, cache, fresh);
  return picked.map((p) => p.entry);
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

type MetaCache = Record<string, string>;

async function readCache(file: string): Promise<MetaCache> {
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as { files?: MetaCache };
    return parsed.files ?? {};
  } catch {
    return {};
  }
}

/** Entries of other context dirs are kept; this one's are replaced by what the walk saw. */
async function writeCache(file: string, contextDir: string, old: MetaCache, fresh: MetaCache): Promise<void> {
  const prefix = contextDir.endsWith('/') ? contextDir : contextDir + '/';
  const files: MetaCache = {};
  for (const [k, v] of Object.entries(old)) if (!k.startsWith(prefix)) files[k] = v;
  Object.assign(files, fresh);
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${randomBytes(6).toString('hex')}`;
  // No `digests` field: GC reads that field of cache/*.json as roots, and these digests are not blobs.
  await writeFile(tmp, JSON.stringify({ version: 1, files }));
  await rename(tmp, file);
}
