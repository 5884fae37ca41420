// A container's cgroups: finding which hierarchy holds each controller (v2 unified or v1 per
// controller, hybrid machines mix both), creating `kiln/<id>` with the limits before the process
// starts (the device rules too, on v1), reading whether the OOM killer acted, removing it after, finding a running container's
// for `kiln exec`, and sweeping the ones a killed supervisor left.

import { mkdir, readFile, rmdir, writeFile, access } from 'node:fs/promises';
import path from 'node:path';
import { CgroupError } from './errors.js';
import { DEVICE_RULES } from './security.js';
import type { ContainerLimits } from './spec.js';

// `devices` is a v1 controller only: v2 filters devices with a BPF program instead.
export type Controller = 'memory' | 'cpu' | 'pids' | 'devices';
const CONTROLLERS: readonly Controller[] = ['memory', 'cpu', 'pids', 'devices'];

export interface Hierarchy {
  version: 1 | 2;
  mountpoint: string;
}

const CPU_PERIOD_US = 100_000;
// Docker refuses less: the container's own setup needs a few megabytes.
const MIN_MEMORY = 6 * 1024 * 1024;

/** Parses /proc/self/mountinfo text into the hierarchy that holds each controller we use. */
export function parseHierarchies(mountinfo: string, v2Controllers: (mountpoint: string) => string[]): Map<Controller, Hierarchy> {
  const found = new Map<Controller, Hierarchy>();
  for (const line of mountinfo.split('\n')) {
    const [pre, post] = line.split(' - ');
    if (!pre || !post) continue;
    const mountpoint = (pre.split(' ')[4] ?? '').replace(/\\040/g, ' ');
    const [fstype, , superOpts = ''] = post.split(' ');
    if (fstype === 'cgroup2') {
      for (const c of v2Controllers(mountpoint)) {
        // A controller enabled on the unified hierarchy is not on any v1 one: v2 wins.
        if ((CONTROLLERS as string[]).includes(c)) found.set(c as Controller, { version: 2, mountpoint });
      }
    } else if (fstype === 'cgroup') {
      for (const opt of superOpts.split(',')) {
        const c = opt as Controller;
        if (CONTROLLERS.includes(c) && found.get(c)?.version !== 2) found.set(c, { version: 1, mountpoint });
      }
    }
  }
  return found;
}

async function readControllers(mountpoint: string): Promise<string[]> {
  const text = await readFile(path.join(mountpoint, 'cgroup.controllers'), 'utf8').catch(() => '');
  return text.trim().split(/\s+/).filter(Boolean);
}

export async function detectHierarchies(): Promise<Map<Controller, Hierarchy>> {
  const mountinfo = await readFile('/proc/self/mountinfo', 'utf8');
  const v2 = new Map<string, string[]>();
  for (const m of mountinfo.matchAll(/^\S+ \S+ \S+ \S+ (\S+) .* - cgroup2 /gm)) {
    const mp = (m[1] as string).replace(/\\040/g, ' ');
    v2.set(mp, await readControllers(mp));
  }
  return parseHierarchies(mountinfo, (mp) => v2.get(mp) ?? []);
}

/** One file write in a cgroup: the controller it needs, its name and value. */
interface Setting {
  controller: Controller;
  file: string;
  value: string;
  /** Skipped when the kernel lacks the file (swap accounting off), as Docker does with a warning. */
  optional?: boolean;
}

/** Docker's --cpu-shares (2..262144) onto cgroup v2's cpu.weight (1..10000), the formula runc uses. */
export function sharesToWeight(shares: number): number {
  return 1 + Math.floor(((shares - 2) * 9999) / 262142);
}

/** Refuses limits Docker would refuse, with the reason. */
export function checkLimits(l: ContainerLimits): void {
  const positive = (name: string, v: number | undefined) => {
    if (v !== undefined && !(Number.isFinite(v) && v > 0)) throw new CgroupError(`${name} must be a positive number, got ${v}`);
  };
  positive('memory', l.memory);
  positive('cpus', l.cpus);
  positive('cpuShares', l.cpuShares);
  if (l.memory !== undefined && l.memory < MIN_MEMORY) throw new CgroupError(`memory ${l.memory} is below the minimum of 6MB`);
  if (l.memorySwap !== undefined && l.memorySwap !== -1) {
    if (l.memory === undefined) throw new CgroupError('memorySwap needs memory: set the memory limit too');
    if (l.memorySwap < l.memory) throw new CgroupError(`memorySwap (${l.memorySwap}) must be at least memory (${l.memory}), or -1 for unlimited swap`);
  }
}

/** The files to write for `limits` on each hierarchy version, in an order the kernel accepts. */
export function settings(limits: ContainerLimits, versionOf: (c: Controller) => 1 | 2): Setting[] {
  checkLimits(limits);
  const out: Setting[] = [];
  const { memory, memorySwap, cpus, cpuShares, pidsLimit } = limits;
  if (memory !== undefined) {
    // Docker's default when only memory is given: as much swap again.
    const total = memorySwap ?? memory * 2;
    if (versionOf('memory') === 1) {
      out.push({ controller: 'memory', file: 'memory.limit_in_bytes', value: String(memory) });
      out.push({ controller: 'memory', file: 'memory.memsw.limit_in_bytes', value: String(total), optional: true });
    } else {
      out.push({ controller: 'memory', file: 'memory.max', value: String(memory) });
      // v2 limits swap on its own, not memory plus swap.
      const swap = total === -1 ? 'max' : String(total - memory);
      out.push({ controller: 'memory', file: 'memory.swap.max', value: swap, optional: true });
    }
  }
  if (cpus !== undefined) {
    const quota = Math.max(1000, Math.round(cpus * CPU_PERIOD_US));
    if (versionOf('cpu') === 1) {
      out.push({ controller: 'cpu', file: 'cpu.cfs_period_us', value: String(CPU_PERIOD_US) });
      out.push({ controller: 'cpu', file: 'cpu.cfs_quota_us', value: String(quota) });
    } else {
      out.push({ controller: 'cpu', file: 'cpu.max', value: `${quota} ${CPU_PERIOD_US}` });
    }
  }
  if (cpuShares !== undefined) {
    out.push(
      versionOf('cpu') === 1
        ? { controller: 'cpu', file: 'cpu.shares', value: String(cpuShares) }
        : { controller: 'cpu', file: 'cpu.weight', value: String(sharesToWeight(cpuShares)) },
    );
  }
  if (pidsLimit !== undefined) {
    out.push({ controller: 'pids', file: 'pids.max', value: pidsLimit > 0 ? String(pidsLimit) : 'max' });
  }
  return out;
}

const exists = (p: string) => access(p).then(() => true, () => false);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class ContainerCgroup {
  private constructor(
    /** One directory per hierarchy (a single one on pure v2). */
    readonly dirs: string[],
    private readonly memory: { version: 1 | 2; dir: string } | undefined,
  ) {}

  /** The `cgroup.procs` files the container's PID 1 writes itself into. */
  get procsFiles(): string[] {
    return this.dirs.map((d) => path.join(d, 'cgroup.procs'));
  }

  static async create(id: string, limits: ContainerLimits = {}): Promise<ContainerCgroup> {
    const hierarchies = await detectHierarchies();
    const missing = settings(limits, (c) => hierarchies.get(c)?.version ?? 1)
      .map((s) => s.controller)
      .filter((c) => !hierarchies.has(c));
    if (missing.length) throw new CgroupError(`the ${missing[0]} controller is not mounted on this machine; drop that limit`);
    const dirOf = new Map<Controller, string>();
    for (const [c, h] of hierarchies) dirOf.set(c, path.join(h.mountpoint, 'kiln', id));
    const dirs = [...new Set(dirOf.values())];
    for (const h of new Set([...hierarchies.values()].filter((h) => h.version === 2).map((h) => h.mountpoint))) {
      await enableV2Controllers(h, [...hierarchies].filter(([, x]) => x.mountpoint === h).map(([c]) => c));
    }
    const memoryH = hierarchies.get('memory');
    const cgroup = new ContainerCgroup(dirs, memoryH && { version: memoryH.version, dir: dirOf.get('memory') as string });
    try {
      for (const d of dirs) await mkdir(d, { recursive: true });
      const devices = dirOf.get('devices');
      if (devices !== undefined && hierarchies.get('devices')?.version === 1) await restrictDevices(devices);
      for (const s of settings(limits, (c) => hierarchies.get(c)?.version ?? 1)) {
        const file = path.join(dirOf.get(s.controller) as string, s.file);
        if (s.optional && !(await exists(file))) continue;
        await writeFile(file, s.value).catch((e: NodeJS.ErrnoException) => {
          throw new CgroupError(`writing ${s.value} to ${file}: ${e.code ?? e.message}`);
        });
      }
    } catch (e) {
      await cgroup.remove();
      throw e;
    }
    return cgroup;
  }

  /** Whether the OOM killer killed anything in the container (read before `remove`). */
  async oomKilled(): Promise<boolean> {
    if (!this.memory) return false;
    const file = path.join(this.memory.dir, this.memory.version === 1 ? 'memory.oom_control' : 'memory.events');
    const text = await readFile(file, 'utf8').catch(() => '');
    const m = /^oom_kill (\d+)$/m.exec(text);
    return m !== null && Number(m[1]) > 0;
  }

  /**
   * Removes the directories. Processes left behind (the helper itself was killed) are killed first;
   * rmdir then waits out the moment the kernel needs to let go of exiting tasks.
   */
  async remove(): Promise<void> {
    for (const dir of this.dirs) {
      for (let attempt = 0; ; attempt++) {
        try {
          await rmdir(dir);
          break;
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          if (code === 'ENOENT') break;
          if (code !== 'EBUSY' || attempt >= 250) throw new CgroupError(`removing ${dir}: ${code}`);
          await killAll(dir);
          await sleep(20);
        }
      }
    }
  }
}

/** Denies every device, then allows DEVICE_RULES: one rule per write, as the kernel reads them. */
async function restrictDevices(dir: string): Promise<void> {
  const write = (file: string, rule: string) =>
    writeFile(path.join(dir, file), rule).catch((e: NodeJS.ErrnoException) => {
      throw new CgroupError(`writing ${rule} to ${path.join(dir, file)}: ${e.code ?? e.message}`);
    });
  await write('devices.deny', 'a');
  for (const rule of DEVICE_RULES) await write('devices.allow', rule);
}

async function killAll(dir: string): Promise<void> {
  const procs = await readFile(path.join(dir, 'cgroup.procs'), 'utf8').catch(() => '');
  for (const pid of procs.split('\n').filter(Boolean)) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

/** On v2 a child cgroup only gets a controller its parents enable in cgroup.subtree_control. */
async function enableV2Controllers(mountpoint: string, controllers: Controller[]): Promise<void> {
  const parent = path.join(mountpoint, 'kiln');
  await mkdir(parent, { recursive: true });
  const line = controllers.map((c) => `+${c}`).join(' ');
  for (const dir of [mountpoint, parent]) {
    await writeFile(path.join(dir, 'cgroup.subtree_control'), line).catch((e: NodeJS.ErrnoException) => {
      throw new CgroupError(`enabling ${line} in ${dir}: ${e.code ?? e.message}`);
    });
  }
}

/**
 * The `cgroup.procs` files of the kiln cgroups process `pid` is in (a container's PID 1), one per
 * hierarchy that holds a controller we use: what a process joins to count as part of the container.
 */
export async function cgroupProcsOf(pid: number): Promise<string[]> {
  const text = await readFile(`/proc/${pid}/cgroup`, 'utf8');
  // Each line is `hierarchy-id:controllers:path`; v2's has id 0 and no controllers.
  const lines = text.split('\n').filter(Boolean).map((l) => {
    const [id, controllers = '', ...rest] = l.split(':');
    return { id, controllers: controllers.split(','), path: rest.join(':') };
  });
  const files = new Set<string>();
  for (const [controller, h] of await detectHierarchies()) {
    const line = lines.find((l) => (h.version === 2 ? l.id === '0' : l.controllers.includes(controller)));
    if (line && /^\/kiln\/[^/]+$/.test(line.path)) files.add(path.join(h.mountpoint, line.path, 'cgroup.procs'));
  }
  return [...files];
}

/** How long a sweep waits for the processes of a dead supervisor's container to finish dying. */
const SWEEP_WAIT_MS = 3_000;

/**
 * Removes the `kiln/<id>` cgroups of `ids` once they hold no process: a supervisor killed with
 * SIGKILL never got to remove them. The caller passes only containers it knows are not running,
 * since a starting container's cgroup is empty for a moment. Returns the directories removed.
 */
export async function sweepCgroups(ids: Iterable<string>): Promise<string[]> {
  const mountpoints = new Set([...(await detectHierarchies()).values()].map((h) => h.mountpoint));
  const dirs = [...ids].flatMap((id) => [...mountpoints].map((mp) => path.join(mp, 'kiln', id)));
  const removed = await Promise.all(dirs.map(async (dir) => ((await drained(dir)) && (await removeEmpty(dir)) ? [dir] : [])));
  return removed.flat();
}

/**
 * Whether `dir` exists and is empty of processes, or becomes so soon: the processes of a killed
 * container take a moment to die once its PID 1 is gone (tearing down its namespaces).
 */
async function drained(dir: string): Promise<boolean> {
  const deadline = Date.now() + SWEEP_WAIT_MS;
  for (;;) {
    const procs = await readFile(path.join(dir, 'cgroup.procs'), 'utf8').catch(() => undefined);
    if (procs === undefined) return false;
    if (procs.trim() === '') return true;
    if (Date.now() >= deadline) return false;
    await sleep(50);
  }
}

/** rmdir, waiting out the moment the kernel needs to let go of tasks that just exited. */
async function removeEmpty(dir: string): Promise<boolean> {
  for (let attempt = 0; attempt < 50; attempt++) {
    try {
      await rmdir(dir);
      return true;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      // A sweep is tidying up: what it cannot remove now, a later one will.
      if (code !== 'EBUSY') return false;
      await sleep(20);
    }
  }
  return false;
}
