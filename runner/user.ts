// Turning `USER`/`--user` into numeric ids with the image's own /etc/passwd and /etc/group, by the
// rules Docker (runc) uses: `name`, `uid`, `uid:gid`, `name:group`; the groups that list the user
// only when no group is given, and the primary group always among the supplementary ones.

import { UnknownUserError } from './errors.js';

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

export interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

export interface ResolvedUser {
  uid: number;
  gid: number;
  /** Supplementary groups, the primary one first, as BuildKit and containerd give them to runc. */
  groups: number[];
  /** For HOME when the environment does not set it. */
  home: string;
}

const MAX_ID = 2 ** 31 - 1;

function parseId(s: string): number | undefined {
  if (!/^\d+$/.test(s)) return undefined;
  const n = Number(s);
  return n <= MAX_ID ? n : undefined;
}

function records(text: string | undefined): string[][] {
  return (text ?? '')
    .split('\n')
    .filter((l) => l.trim() && !l.startsWith('#'))
    .map((l) => l.split(':'));
}

export function parsePasswd(text: string | undefined): PasswdEntry[] {
  return records(text).flatMap(([name, , uid, gid, , home]) => {
    const u = parseId(uid ?? ''), g = parseId(gid ?? '');
    return name && u !== undefined && g !== undefined ? [{ name, uid: u, gid: g, home: home || '/' }] : [];
  });
}

export function parseGroup(text: string | undefined): GroupEntry[] {
  return records(text).flatMap(([name, , gid, members]) => {
    const g = parseId(gid ?? '');
    return name && g !== undefined ? [{ name, gid: g, members: (members ?? '').split(',').filter(Boolean) }] : [];
  });
}

/** Resolves `user` (unset means root) against the image's passwd and group entries. */
export function resolveUser(user: string | undefined, passwd: PasswdEntry[], groups: GroupEntry[]): ResolvedUser {
  const spec = user?.trim() || '0';
  const [userArg = '', groupArg, ...extra] = spec.split(':');
  if (extra.length > 0 || userArg === '' || groupArg === '') {
    throw new UnknownUserError(spec, 'expected user, uid, user:group or uid:gid');
  }
  const uidArg = parseId(userArg);
  // A numeric argument is always a uid, never a user's name (runc's rule).
  const entry = passwd.find((p) => (uidArg !== undefined ? p.uid === uidArg : p.name === userArg));
  if (!entry && uidArg === undefined) {
    throw new UnknownUserError(spec, `unable to find user ${userArg}: no matching entries in passwd file`);
  }
  const resolved: ResolvedUser = {
    uid: entry?.uid ?? (uidArg as number),
    gid: entry?.gid ?? 0,
    groups: [],
    home: entry?.home ?? '/',
  };
  if (groupArg !== undefined) {
    const gidArg = parseId(groupArg);
    const group = groups.find((g) => (gidArg !== undefined ? g.gid === gidArg : g.name === groupArg));
    if (!group && gidArg === undefined) {
      throw new UnknownUserError(spec, `unable to find group ${groupArg}: no matching entries in group file`);
    }
    resolved.gid = group?.gid ?? (gidArg as number);
  }
  const listed = groupArg === undefined && entry ? groups.filter((g) => g.members.includes(entry.name)).map((g) => g.gid) : [];
  resolved.groups = [...new Set([resolved.gid, ...listed])];
  return resolved;
}
