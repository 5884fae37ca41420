// File ops: copy, mkdir, mkfile, rm and symlink actions chained in one op, numbered as
// BuildKit's llb.File numbers them.
import { LlbBuildError } from './errors.js';
import { normalizePath } from './paths.js';
import { EMPTY_INPUT, SKIP_OUTPUT, type FileAction, type Int64, type Op, type PbChownOpt, type PbUserOpt } from './types.js';
import { InputList, metadataOf, OpVertex, Output, type OpOptions, type State } from './vertex.js';

export type UserOpt = { name: string } | { id: number };
export interface ChownOpt { user?: UserOpt; group?: UserOpt }

/**
 * Timestamps are Unix time in nanoseconds, as BuildKit stores them (a number up to ~2^63 whose
 * value is whole seconds × 1e9 is exact; pass a bigint otherwise). Unset: -1, "keep the source's".
 */
export interface CopySpec {
  from: State;
  src: string;
  dest: string;
  owner?: ChownOpt;
  /** Unset: -1, keep the source's mode. */
  mode?: number;
  modeStr?: string;
  followSymlink?: boolean;
  dirCopyContents?: boolean;
  attemptUnpackDockerCompatibility?: boolean;
  createDestPath?: boolean;
  allowWildcard?: boolean;
  allowEmptyWildcard?: boolean;
  timestamp?: Int64;
  includePatterns?: string[];
  excludePatterns?: string[];
  alwaysReplaceExistingDestPaths?: boolean;
  requiredPaths?: string[];
}

export type FileActionSpec =
  | { copy: CopySpec }
  | { mkdir: { path: string; mode: number; makeParents?: boolean; owner?: ChownOpt; timestamp?: Int64 } }
  | { mkfile: { path: string; mode: number; data: Uint8Array; owner?: ChownOpt; timestamp?: Int64 } }
  | { rm: { path: string; allowNotFound?: boolean; allowWildcard?: boolean } }
  | { symlink: { oldpath: string; newpath: string; owner?: ChownOpt; timestamp?: Int64 } };

const NO_TIMESTAMP = -1;

/** Names are resolved against /etc/passwd and /etc/group of `base` (the op's input index). */
function chown(owner: ChownOpt | undefined, base: number): PbChownOpt | undefined {
  if (!owner) return undefined;
  const user = (u: UserOpt | undefined): PbUserOpt | undefined =>
    u === undefined ? undefined : 'name' in u ? { byName: { name: u.name, input: base } } : { byId: u.id };
  return { user: user(owner.user), group: user(owner.group) };
}

/**
 * One FileOp over `base`. Action i reads the result of action i-1, named by index
 * len(inputs) + (i-1); only the last action's result is an output of the op. File ops carry no
 * platform (BuildKit clears it: the same files result on every platform), so opts.platform is
 * not used.
 */
export function file(base: State, actions: FileActionSpec[], opts?: OpOptions): Output {
  if (actions.length === 0) throw new LlbBuildError('file: at least one action is required');
  const inputs = new InputList();
  // BuildKit adds the base as an input for each action (deduplicated), then the copy source.
  let baseIndex = EMPTY_INPUT;
  const secondary: number[] = [];
  for (const a of actions) {
    if (base) baseIndex = inputs.add(base);
    secondary.push('copy' in a && a.copy.from ? inputs.add(a.copy.from) : EMPTY_INPUT);
  }
  const n = inputs.inputs.length;
  const pbActions = actions.map((a, i): FileAction => {
    const fa: FileAction = {
      input: i === 0 ? baseIndex : n + i - 1,
      secondaryInput: secondary[i],
      output: i === actions.length - 1 ? 0 : SKIP_OUTPUT,
    };
    if ('copy' in a) {
      const c = a.copy;
      fa.copy = {
        src: normalizePath(c.src, false),
        dest: normalizePath(c.dest, true),
        owner: chown(c.owner, baseIndex),
        // A symbolic mode travels alone in modeStr; -1 marks "no mode" only when neither is set.
        mode: c.mode ?? (c.modeStr ? undefined : -1),
        followSymlink: c.followSymlink,
        dirCopyContents: c.dirCopyContents,
        attemptUnpackDockerCompatibility: c.attemptUnpackDockerCompatibility,
        createDestPath: c.createDestPath,
        allowWildcard: c.allowWildcard,
        allowEmptyWildcard: c.allowEmptyWildcard,
        timestamp: c.timestamp ?? NO_TIMESTAMP,
        includePatterns: c.includePatterns,
        excludePatterns: c.excludePatterns,
        alwaysReplaceExistingDestPaths: c.alwaysReplaceExistingDestPaths,
        modeStr: c.modeStr,
        requiredPaths: c.requiredPaths,
      };
    } else if ('mkdir' in a) {
      const m = a.mkdir;
      fa.mkdir = {
        path: normalizePath(m.path, false), mode: m.mode & 0o777, makeParents: m.makeParents,
        owner: chown(m.owner, baseIndex), timestamp: m.timestamp ?? NO_TIMESTAMP,
      };
    } else if ('mkfile' in a) {
      const m = a.mkfile;
      fa.mkfile = {
        path: normalizePath(m.path, false), mode: m.mode & 0o777, data: m.data,
        owner: chown(m.owner, baseIndex), timestamp: m.timestamp ?? NO_TIMESTAMP,
      };
    } else if ('rm' in a) {
      fa.rm = { path: normalizePath(a.rm.path, false), allowNotFound: a.rm.allowNotFound, allowWildcard: a.rm.allowWildcard };
    } else {
      const s = a.symlink;
      // oldpath is the link's target, stored as written (a relative target must stay relative).
      fa.symlink = {
        oldpath: s.oldpath, newpath: normalizePath(s.newpath, false),
        owner: chown(s.owner, baseIndex), timestamp: s.timestamp ?? NO_TIMESTAMP,
      };
    }
    return fa;
  });

  // BuildKit's marshal visits the base first, then copy sources from the last action back.
  const walk: Output[] = [];
  if (base) walk.push(base);
  for (let i = actions.length - 1; i >= 0; i--) {
    const a = actions[i]!;
    if ('copy' in a && a.copy.from) walk.push(a.copy.from);
  }
  const op: Op = { inputs: inputs.inputs, file: { actions: pbActions }, constraints: {} };
  return new Output(new OpVertex(op, walk, metadataOf(opts)), 0);
}
