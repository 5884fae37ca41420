// The local source (`local://context`): the build context's selected files as one snapshot, with
// a content key over exactly those files (paths, types, modes, owners, sizes, links, content
// digests; never mtimes).
import path from 'node:path';
import { native, type CopyPlanOp } from '../../native/binding.js';
import type { OpExecutor, SolveEnv, VertexInfo } from '../types.js';
import { contextKey, selectContext, type Selection } from './context-files.js';
import { LocalSourceError } from './errors.js';
import { SnapshotWork } from './snapshot-work.js';
import { specialFileOp } from './special-files.js';
import { errnoOf } from '../../errors/os-error.js';

const PREFIX = 'local://';

function parseList(v: VertexInfo, attr: string): string[] {
  const text = v.op.source?.attrs?.[attr];
  if (text === undefined || text === '') return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (!Array.isArray(parsed) || parsed.some((p) => typeof p !== 'string')) {
    throw new LocalSourceError(`${v.name}: source attribute ${attr} is not a JSON list of strings: ${text}`);
  }
  return parsed as string[];
}

/** The context files a local op selects; only "context" is known. */
function selection(v: VertexInfo): Selection {
  const name = (v.op.source?.identifier ?? '').slice(PREFIX.length);
  if (name !== 'context') {
    throw new LocalSourceError(`${v.name}: local source "${name}" is not known; kiln provides only "context" (the build context directory)`);
  }
  return {
    includes: parseList(v, 'local.includepattern'),
    excludes: parseList(v, 'local.excludepatterns'),
    followPaths: parseList(v, 'local.followpaths'),
  };
}

const cacheDir = (env: SolveEnv) => path.join(env.root, 'cache', 'context');

/**
 * The context is the user's files: an OS error while reading it (a file unreadable, or gone
 * during the build) is theirs to fix and is the step's error; a full disk and bugs go on as they are.
 */
async function readingContext<T>(v: VertexInfo, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    const errno = errnoOf(err);
    if (errno === undefined || errno === 'ENOSPC') throw err;
    throw new LocalSourceError(`${v.name}: ${(err as Error).message}`);
  }
}

export const localSource: OpExecutor = {
  async contentKey(v, env) {
    return readingContext(v, () => contextKey(env, selection(v), cacheDir(env)));
  },
  async run(v, _inputs, env) {
    const list = await readingContext(v, () => selectContext(env, selection(v), cacheDir(env)));
    const work = new SnapshotWork(env.snapshotter, v.digest);
    const keep = new Set<string>();
    try {
      const { key, dir } = await work.active(null);
      env.signal.throwIfAborted();
      // Docker's context transfer gives every file root's ownership; modes and mtimes travel as they are.
      const ops: CopyPlanOp[] = list.map((e) => {
        const to = path.join(dir, e.rel);
        const meta = { mode: e.mode, uid: 0, gid: 0, atimeMs: e.mtimeMs, mtimeMs: e.mtimeMs };
        if (e.kind === 'file') return { kind: 'file', to, from: path.join(env.contextDir, e.rel), size: e.size, ...meta };
        if (e.kind === 'symlink') return { kind: 'symlink', to, linkTarget: e.linkTarget!, ...meta };
        if (e.kind === 'dir') return { kind: 'dir', to, ...meta };
        return specialFileOp(e.kind, to, e.rdev, meta);
      });
      await native.applyCopyPlan({ root: dir, ops, replace: false });
      const snapshot = await work.commit(key);
      keep.add(snapshot);
      return [{ snapshot }];
    } finally {
      await work.cleanup(keep);
    }
  },
};
