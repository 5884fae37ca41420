// An OCI runtime bundle (config.json) for the same container, for `--runtime=runc`: the mounts,
// namespaces, user, capabilities and limits our helper would apply, in the runtime spec's terms.

import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { checkLimits } from './cgroups.js';
import { InvalidContainerSpecError } from './errors.js';
import { helperPath } from './helper-path.js';
import { prepareContainer } from './prepare.js';
import { DEFAULT_CAPABILITIES, DEFAULT_SECCOMP, MASKED_PATHS, READONLY_PATHS, ociSeccomp } from './security.js';
import type { ContainerLimits, ContainerMount, ContainerSpec } from './spec.js';

interface OciMount {
  destination: string;
  type: string;
  source: string;
  options: string[];
}

const BASE_MOUNTS: OciMount[] = [
  { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
  { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
  { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
  { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
  { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
  { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
];

function ociMount(m: ContainerMount): OciMount {
  const extra = m.options ?? [];
  if (m.type === 'bind') {
    return { destination: m.target, type: 'bind', source: m.source as string, options: ['rbind', m.readonly ? 'ro' : 'rw', ...extra] };
  }
  return { destination: m.target, type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', ...(m.readonly ? ['ro'] : []), ...extra] };
}

/** linux.resources; the runtime spec counts swap like cgroup v1 does (memory plus swap). */
function resources(limits: ContainerLimits = {}): Record<string, unknown> {
  checkLimits(limits);
  const r: Record<string, unknown> = { devices: [{ allow: false, access: 'rwm' }] };
  if (limits.memory !== undefined) r.memory = { limit: limits.memory, swap: limits.memorySwap ?? limits.memory * 2 };
  if (limits.cpus !== undefined || limits.cpuShares !== undefined) {
    r.cpu = {
      ...(limits.cpuShares !== undefined ? { shares: limits.cpuShares } : {}),
      ...(limits.cpus !== undefined ? { quota: Math.max(1000, Math.round(limits.cpus * 100_000)), period: 100_000 } : {}),
    };
  }
  if (limits.pidsLimit !== undefined) r.pids = { limit: limits.pidsLimit > 0 ? limits.pidsLimit : -1 };
  return r;
}

/** Where `--init` puts kiln-ns for runc, which runs it as `/dev/init -- CMD…` (its init mode). */
const INIT_PATH = '/dev/init';

/**
 * Writes `dir/config.json` (and the /etc files it binds) so that `runc run --bundle dir <id>`
 * runs `spec`. No rlimits: raising one past its hard limit needs CAP_SYS_RESOURCE, which we may lack.
 */
export async function writeBundle(spec: ContainerSpec, dir: string): Promise<void> {
  if (spec.upper) {
    throw new InvalidContainerSpecError('upper', 'an OCI bundle takes its root as one directory: mount the overlay and pass its mount point as rootfs');
  }
  await mkdir(dir, { recursive: true });
  const id = randomBytes(8).toString('hex');
  const prepared = await prepareContainer(spec, id, dir);
  const caps = [...DEFAULT_CAPABILITIES];
  // As docker's --init: the init binary bound into the container; on /dev, a tmpfs, it leaves no stub in the root.
  const init = spec.init ? { type: 'bind' as const, source: await helperPath(), target: INIT_PATH, readonly: true } : undefined;
  const config = {
    ociVersion: '1.0.2',
    process: {
      terminal: spec.tty ?? false,
      user: { uid: prepared.user.uid, gid: prepared.user.gid, additionalGids: prepared.user.groups },
      args: init ? [INIT_PATH, '--', ...spec.args] : spec.args,
      env: prepared.env,
      cwd: spec.cwd,
      capabilities: { bounding: caps, effective: caps, permitted: caps },
      noNewPrivileges: spec.noNewPrivileges ?? false,
    },
    root: { path: path.resolve(spec.rootfs), readonly: false },
    hostname: prepared.hostname,
    mounts: [...BASE_MOUNTS, ...[...prepared.mounts, ...(init ? [init] : [])].map(ociMount)],
    linux: {
      namespaces: [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, ...(spec.network === 'none' ? [{ type: 'network' }] : [])],
      cgroupsPath: `/kiln/${id}`,
      resources: resources(spec.limits),
      maskedPaths: MASKED_PATHS,
      readonlyPaths: READONLY_PATHS,
      ...(spec.seccomp !== 'unconfined' ? { seccomp: ociSeccomp(DEFAULT_SECCOMP) } : {}),
    },
  };
  await writeFile(path.join(dir, 'config.json'), JSON.stringify(config, null, 2) + '\n');
}
