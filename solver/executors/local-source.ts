// The local source (`local://context`): the build context's selected files as one snapshot, with
// a content key over exactly those files (paths, types, modes, owners, sizes, links, content
// digests; never mtimes).
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { chmod, copyFile, lchown, lutimes, mkdir, symlink } from 'node:fs/promises';
import path from 'node:path';
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
  return selectContext(env.contextDir, sel, path.join(env.root, 'cache', 'context-meta.json'));
}

function contextChecksum(list: ContextEntry[]): string {
  const h = createHash('sha256');
  for (const e of list) h.update(JSON.stringify([e.rel, e.type, e.mode, e.uid, e.gid, e.size, e.linkTarget, e.digest]) + '\n');
  return `sha256:${h.digest('hex')}`;
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
      for (const e of list) {
        env.signal.throwIfAborted();
        const from = path.join(env.contextDir, e.rel);
        const to = path.join(dir, e.rel);
        if (e.type === 'dir') await mkdir(to);
        else if (e.type === 'symlink') await symlink(e.linkTarget, to);
        else await copyFile(from, to, constants.COPYFILE_FICLONE);
        if (e.type !== 'symlink') await chmod(to, e.mode);
        // Docker's context transfer gives every file root's ownership; mtimes travel as they are.
        await lchown(to, 0, 0);
        await lutimes(to, e.mtimeMs / 1000, e.mtimeMs / 1000);
      }
      // Directories last: writing their children moved their mtimes.
      for (const e of [...list].reverse()) if (e.type === 'dir') await lutimes(path.join(dir, e.rel), e.mtimeMs / 1000, e.mtimeMs / 1000);
      const snapshot = await work.commit(key);
      keep.add(snapshot);
      return [{ snapshot }];
    } finally {
      await work.cleanup(keep);
    }
  },
};
