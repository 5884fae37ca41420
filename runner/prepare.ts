// What a container spec becomes before anything runs, the same for our helper and for runc: checked
// paths, the user as numeric ids, the environment Docker would give, the hostname and the /etc files.

import { stat } from 'node:fs/promises';
import os from 'node:os';
import { InvalidContainerSpecError } from './errors.js';
import { writeEtcFiles } from './etc-files.js';
import { readRootFile, rootLayers } from './rootfs-read.js';
import { DEFAULT_PATH } from './security.js';
import { validateSpec, type ContainerMount, type ContainerSpec } from './spec.js';
import { parseGroup, parsePasswd, resolveUser, type ResolvedUser } from './user.js';

export interface PreparedContainer {
  user: ResolvedUser;
  env: string[];
  hostname: string;
  /** The caller's mounts, then the /etc files it does not override. */
  mounts: ContainerMount[];
}

async function mustBeDir(field: string, p: string): Promise<void> {
  const s = await stat(p).catch(() => undefined);
  if (!s?.isDirectory()) throw new InvalidContainerSpecError(field, `${p} is not a directory`);
}

/** Checks `spec` and resolves it for container `id`, writing its /etc files into `etcDir`. */
export async function prepareContainer(spec: ContainerSpec, id: string, etcDir: string): Promise<PreparedContainer> {
  validateSpec(spec);
  await mustBeDir('rootfs', spec.rootfs);
  if (spec.upper) {
    await mustBeDir('upper.upperDir', spec.upper.upperDir);
    await mustBeDir('upper.workDir', spec.upper.workDir);
    for (const l of spec.upper.lowers) await mustBeDir('upper.lowers', l);
  }
  const layers = rootLayers(spec);
  const [passwd, group] = await Promise.all([readRootFile(layers, '/etc/passwd'), readRootFile(layers, '/etc/group')]);
  const user = resolveUser(spec.user, parsePasswd(passwd), parseGroup(group));

  const env = [...spec.env];
  const has = (key: string) => env.some((e) => e.startsWith(`${key}=`));
  if (!has('PATH')) env.push(`PATH=${DEFAULT_PATH}`);
  if (!has('HOME')) env.push(`HOME=${user.home}`);

  // Docker names a container's host after its id; sharing the host's network means sharing its name.
  const hostname = spec.hostname ?? (spec.network === 'host' ? os.hostname() : id.slice(0, 12));
  const files = await writeEtcFiles(etcDir, hostname, spec.network);
  const mounts = [...(spec.mounts ?? [])];
  const taken = new Set(mounts.map((m) => m.target.replace(/\/+$/, '')));
  const build = (spec.etcFiles ?? 'build') === 'build';
  const etc: [string, string][] = [['/etc/hosts', files.hosts], ['/etc/resolv.conf', files.resolvConf]];
  // BuildKit binds these two read-only into a RUN step and leaves /etc/hostname to the image.
  if (!build) etc.push(['/etc/hostname', files.hostname]);
  for (const [target, source] of etc) {
    if (taken.has(target)) continue;
    mounts.push(build ? { type: 'bind', source, target, readonly: true, options: ['nosuid', 'nodev', 'noexec'] } : { type: 'bind', source, target });
  }
  return { user, env, hostname, mounts };
}
