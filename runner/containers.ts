// Containers' records under <root>/containers/<id>/: config.json (what to run, written once) and
// state.json (created → running → exited, with the pids that kiln stop/kill/exec need), each
// replaced whole by rename, and names unique across every kiln process on the store.

import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { currentOwner, ownerAlive, withLock } from '../snapshotter/lock.js';
import { writeFileAtomic } from '../snapshotter/atomic-file.js';
import { AmbiguousContainerError, ContainerNameInUseError, ContainerNotFoundError } from './errors.js';
import type { ContainerSpec } from './spec.js';

export type ContainerStatus = 'created' | 'running' | 'exited';
export type ContainerRuntime = 'kiln' | 'runc';

export interface ContainerConfig {
  /** 64 hex digits; the first 12 are what `kiln ps` shows. */
  id: string;
  name: string;
  /** The image as the user named it (ps's IMAGE column). */
  image: string;
  manifestDigest: string;
  /** The image's config digest, for `kiln commit`. */
  configDigest: string;
  /** The snapshot holding the container's writable layer. */
  snapshot: string;
  /** The store lease that keeps the snapshot and the image's blobs from garbage collection. */
  lease: string;
  /** What runs; for the runc runtime `rootfs` is replaced by the mounted snapshot at start. */
  spec: ContainerSpec;
  runtime: ContainerRuntime;
  /** `--rm`: the supervisor removes the container when it exits. */
  autoRemove: boolean;
  created: string;
}

export interface ContainerState {
  status: ContainerStatus;
  /** The supervising kiln process (foreground `kiln run`, or the detached one). */
  pid?: number;
  /** `pid.starttime` of the supervisor, so a recycled pid is not taken for it. */
  owner?: string;
  /**
   * The container's PID 1 as the host sees it (the command, or with `--init` the init): the process
   * `kiln kill` and `kiln stop` signal and whose namespaces `kiln exec` enters.
   */
  containerPid?: number;
  exitCode?: number;
  signal?: string;
  oomKilled?: boolean;
  /** Why the supervisor could not run or follow the container. */
  error?: string;
  started?: string;
  finished?: string;
}

export interface ContainerRecord {
  config: ContainerConfig;
  state: ContainerState;
}

export type NewContainer = Omit<ContainerConfig, 'id' | 'name' | 'created' | 'snapshot' | 'lease'>;

const ADJECTIVES = ['brave', 'calm', 'eager', 'fervent', 'gifted', 'happy', 'jolly', 'keen', 'lucid', 'modest', 'nifty', 'quirky', 'serene', 'tender', 'vibrant', 'zealous'];
const NAMES = ['babbage', 'curie', 'darwin', 'euler', 'fermi', 'gauss', 'hopper', 'kepler', 'lovelace', 'noether', 'pascal', 'ritchie', 'shannon', 'turing', 'wozniak', 'yonath'];

function pick<T>(list: readonly T[]): T {
  return list[randomBytes(1)[0]! % list.length]!;
}

/** Docker's name rule: a letter or digit, then letters, digits, `_`, `.` or `-`. */
export const VALID_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

async function writeAtomic(file: string, value: unknown): Promise<void> {
  await writeFileAtomic(file, JSON.stringify(value, null, 2) + '\n');
}

/**
 * A running record whose supervisor is gone (killed with SIGKILL, machine rebooted) is shown as
 * exited: nobody is left to run or reap the container.
 */
export function liveState(state: ContainerState): ContainerState {
  if (state.status !== 'running' || state.owner === undefined || ownerAlive(state.owner)) return state;
  return { ...state, status: 'exited', exitCode: state.exitCode ?? 255, error: state.error ?? 'the supervising kiln process died' };
}

export class ContainerStore {
  readonly dir: string;

  constructor(root: string) {
    this.dir = path.join(path.resolve(root), 'containers');
  }

  containerDir(id: string): string {
    return path.join(this.dir, id);
  }

  /** Records a new container in state `created`; a taken `name` is refused, none gets a random one. */
  async create(input: NewContainer, name?: string): Promise<ContainerRecord> {
    await mkdir(this.dir, { recursive: true });
    const id = randomBytes(32).toString('hex');
    return withLock(path.join(this.dir, '.names.lock'), async () => {
      const taken = new Map((await this.list()).map((r) => [r.config.name, r.config.id]));
      let chosen = name;
      if (chosen !== undefined && taken.has(chosen)) throw new ContainerNameInUseError(chosen, taken.get(chosen)!);
      while (chosen === undefined || taken.has(chosen)) chosen = `${pick(ADJECTIVES)}_${pick(NAMES)}${taken.size > 100 ? randomBytes(2).toString('hex') : ''}`;
      const config: ContainerConfig = {
        ...input,
        id,
        name: chosen,
        snapshot: `container-${id}`,
        lease: `container-${id}`,
        created: new Date().toISOString(),
      };
      const state: ContainerState = { status: 'created' };
      // Built aside and renamed in, so a listing never sees a container without its config.
      const tmp = path.join(this.dir, `.new-${id}`);
      await mkdir(tmp);
      await writeAtomic(path.join(tmp, 'config.json'), config);
      await writeAtomic(path.join(tmp, 'state.json'), state);
      await rename(tmp, this.containerDir(id));
      return { config, state };
    });
  }

  async list(): Promise<ContainerRecord[]> {
    const names = await readdir(this.dir).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return [] as string[];
      throw e;
    });
    const out: ContainerRecord[] = [];
    for (const id of names.filter((n) => /^[a-f0-9]{64}$/.test(n))) {
      const rec = await this.read(id);
      if (rec) out.push(rec);
    }
    return out.sort((a, b) => b.config.created.localeCompare(a.config.created));
  }

  /** A container by full id, name, or unique id prefix, as Docker resolves them. */
  async get(ref: string): Promise<ContainerRecord> {
    const all = await this.list();
    const exact = all.find((r) => r.config.id === ref || r.config.name === ref);
    if (exact) return exact;
    const byPrefix = /^[a-f0-9]+$/.test(ref) ? all.filter((r) => r.config.id.startsWith(ref)) : [];
    if (byPrefix.length > 1) throw new AmbiguousContainerError(ref, byPrefix.map((r) => r.config.id.slice(0, 12)));
    if (byPrefix.length === 1) return byPrefix[0]!;
    throw new ContainerNotFoundError(ref, path.dirname(this.dir));
  }

  /** The state with a dead supervisor's `running` corrected (see liveState). */
  async state(id: string): Promise<ContainerState> {
    return liveState(JSON.parse(await readFile(path.join(this.containerDir(id), 'state.json'), 'utf8')) as ContainerState);
  }

  /** Read-modify-write of state.json under the container's lock. */
  async updateState(id: string, change: (s: ContainerState) => ContainerState): Promise<ContainerState> {
    return withLock(path.join(this.containerDir(id), '.state.lock'), async () => {
      const file = path.join(this.containerDir(id), 'state.json');
      const next = change(JSON.parse(await readFile(file, 'utf8')) as ContainerState);
      await writeAtomic(file, next);
      return next;
    });
  }

  /** Replaces config.json (only while the container is being created). */
  writeConfig(config: ContainerConfig): Promise<void> {
    return writeAtomic(path.join(this.containerDir(config.id), 'config.json'), config);
  }

  /** Marks the container running under this process. */
  markRunning(id: string): Promise<ContainerState> {
    return this.updateState(id, () => ({ status: 'running', pid: process.pid, owner: currentOwner(), started: new Date().toISOString() }));
  }

  /** Deletes the record; moved aside first so a listing never sees half a container. */
  async remove(id: string): Promise<void> {
    const aside = path.join(this.dir, `.removing-${id}`);
    try {
      await rename(this.containerDir(id), aside);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    await rm(aside, { recursive: true, force: true });
  }

  private async read(id: string): Promise<ContainerRecord | undefined> {
    try {
      const config = JSON.parse(await readFile(path.join(this.containerDir(id), 'config.json'), 'utf8')) as ContainerConfig;
      return { config, state: await this.state(id) };
    } catch (e) {
      // Removed between readdir and read.
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }
}
