// Owners of what a file action writes: ids as given, or names looked up in the destination's own
// /etc/passwd and /etc/group (never the host's), as BuildKit's --chown does.
import { readFile } from 'node:fs/promises';
import { parseGroup, parsePasswd } from '../../runner/user.js';
import type { PbChownOpt } from '../llb/types.js';
import { UnknownOwnerError } from './errors.js';
import { resolveInRoot } from './root-path.js';

export interface Owner {
  uid: number;
  gid: number;
}

async function readIn(root: string, file: string): Promise<string | undefined> {
  return readFile(await resolveInRoot(root, file), 'utf8').catch(() => undefined);
}

/** undefined = keep the owners the source has. A user alone (`--chown=1000`) sets the group to the same id, or the user's primary group for a name. */
export async function resolveOwner(step: string, root: string, opt: PbChownOpt | undefined): Promise<Owner | undefined> {
  if (!opt?.user && !opt?.group) return undefined;
  const owner: Owner = { uid: 0, gid: 0 };
  if (opt.user?.byName?.name !== undefined) {
    const name = opt.user.byName.name;
    const entry = parsePasswd(await readIn(root, '/etc/passwd')).find((p) => p.name === name);
    if (!entry) throw new UnknownOwnerError(step, 'user', name, '/etc/passwd');
    owner.uid = entry.uid;
    owner.gid = entry.gid;
  } else if (opt.user) {
    owner.uid = owner.gid = opt.user.byId ?? 0;
  }
  if (opt.group?.byName?.name !== undefined) {
    const name = opt.group.byName.name;
    const entry = parseGroup(await readIn(root, '/etc/group')).find((g) => g.name === name);
    if (!entry) throw new UnknownOwnerError(step, 'group', name, '/etc/group');
    owner.gid = entry.gid;
  } else if (opt.group) {
    owner.gid = opt.group.byId ?? 0;
  }
  return owner;
}
