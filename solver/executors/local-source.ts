// The local source (`local://context`): the build context's selected files as one snapshot, with
// a content key over exactly those files (paths, types, modes, owners, sizes, links, content
// digests; never mtimes).
import { createHash } from 'node:crypto';
import path from 'node:path';
import { native, type CopyPlanOp } from '../../native/binding.js';
import type { OpExecutor, SolveEnv, VertexInfo } from '../types.js';
import { selectContext, type ContextEntry, type Selection } from './context-files.js';
import { LocalSourceError } from './errors.js';
import { SnapshotWork } from './snapshot-work.js';

const PREFIX = 'local://';

function parseList(v: VertexInfo, attr: string): string[] {
  const text = v.op.source?.attrs?.[attr];
  if (text === undefined || text === '') return [];
  const parsed: unknown = JSON.parse(text);
  if (!Array.isArray(parsed) || parsed.some((p) => typeof p !== 'string')) {
    throw new LocalSourceError(`${v.name}: source attribute ${attr} is not a JSON list of strings: ${text}`);
  }
  return parsed as string[];
}

async function entries(v: VertexInfo, env: SolveEnv): Promise<ContextEntry[]> {
  const name = (v.op.source?.identifier ?? '').slice(PREFIX.length);
  if (name !== 'context') {
    throw new LocalSourceError(`${v.name}: local source "${name}" is not known; kiln provides only "context" (the build context directory)`);
  }
  const sel: Selection = {
    includes: parseList(v, 'local.includepattern'),
    excludes: parseList(v, 'local.excludepatterns'),
    followPaths: parseList(v, 'local.followpaths'),
  };
  return selectContext(env, env.contextDir, sel, path.join(env.root, 'cache', 'context'));
}

function contextChecksum(list: ContextEntry[]): string {
  // One line per entry; NUL cannot occur in a path, so the fields cannot run into each other.
  const lines = list.map((e) => `${e.rel}\0${e.kind}\0${e.mode}\0${e.uid}\0${e.gid}\0${e.size}\0${e.linkTarget ?? ''}\0${e.digest ?? ''}\n`);
  return `sha256:${createHash('sha256').update(lines.join('')).digest('hex')}`;
}

export const localSource: OpExecutor = {
  async contentKey(v, env) {
    return contextChecksum(await entries(v, env));
  },
  async run(v, _inputs, env) {
    const list = await entries(v, env);
    const work = new SnapshotWork(env.snapshotter, v.digest);
    const keep = new Set<string>();
    try {
      const { key, dir } = await work.active(null);
      env.signal.throwIfAborted();
      // Docker's context transfer gives every file root's ownership; modes and mtimes travel as they are.
      const ops: CopyPlanOp[] = list.map((e) => ({
        kind: e.kind,
        to: path.join(dir, e.rel),
        ...(e.kind === 'file' ? { from: path.join(env.contextDir, e.rel), size: e.size } : {}),
        ...(e.kind === 'symlink' ? { linkTarget: e.linkTarget! } : {}),
        mode: e.mode, uid: 0, gid: 0, atimeMs: e.mtimeMs, mtimeMs: e.mtimeMs,
      }));
      await native.applyCopyPlan({ root: dir, ops, replace: false });
      const snapshot = await work.commit(key);
      keep.add(snapshot);
      return [{ snapshot }];
    } finally {
      await work.cleanup(keep);
    }
  },
};
