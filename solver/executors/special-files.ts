// Special files in a build context or a COPY source, as BuildKit's copier treats them: fifos and
// character/block devices are recreated as they are (a device node is harmless in a layer: the
// container's device cgroup decides what may be opened), and a socket, which cannot be carried,
// becomes an empty regular file with the socket's mode.
import type { Stats } from 'node:fs';
import type { CopyPlanOp } from '../../native/binding.js';
import type { SpecialKind } from '../../native/scan-tree.js';

type PlanMeta = Pick<CopyPlanOp, 'mode' | 'uid' | 'gid' | 'atimeMs' | 'mtimeMs'>;

/** The copy-plan op that recreates a special file at `to`. */
export function specialFileOp(kind: SpecialKind, to: string, rdev: number, meta: PlanMeta): CopyPlanOp {
  return kind === 'socket' ? { kind: 'file', to, ...meta } : { kind, to, rdev, ...meta };
}

/** What kind of special file an lstat describes, or undefined for a file, directory or symlink. */
export function specialKindOf(st: Stats): SpecialKind | undefined {
  if (st.isFIFO()) return 'fifo';
  if (st.isSocket()) return 'socket';
  if (st.isCharacterDevice()) return 'char';
  if (st.isBlockDevice()) return 'block';
  return undefined;
}
