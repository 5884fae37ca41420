// The container spec the runner's callers give (`kiln run`, the solver's RUN steps) and what a run
// returns; checking a spec before anything touches the machine.

import { InvalidContainerSpecError } from './errors.js';

export interface OverlayUpper {
  upperDir: string;
  workDir: string;
  /** Read-only layers of the root, topmost first; when empty, `rootfs` itself is the one lower. */
  lowers: string[];
}

export interface ContainerMount {
  type: 'bind' | 'tmpfs';
  /** Host path of a bind mount. */
  source?: string;
  /** Absolute path inside the container. */
  target: string;
  readonly?: boolean;
  /** mount(8)-style options: flags (`nosuid`, `noexec`, `ro`) and tmpfs data (`size=64m`, `mode=1777`). */
  options?: string[];
}

export interface ContainerLimits {
  /** Bytes of memory. */
  memory?: number;
  /** Bytes of memory plus swap, as `docker run --memory-swap`; -1 for unlimited swap. */
  memorySwap?: number;
  /** CPUs of time per period (fractions allowed), as `docker run --cpus`. */
  cpus?: number;
  /** Relative CPU weight, as `docker run --cpu-shares` (2..262144). */
  cpuShares?: number;
  /** Maximum number of processes; 0 or less for unlimited. */
  pidsLimit?: number;
}

export interface ContainerSpec {
  /**
   * Host directory that becomes `/`. With `upper`, it is where the overlay is mounted, inside the
   * container's own mount namespace only (and its lower when `upper.lowers` is empty).
   */
  rootfs: string;
  upper?: OverlayUpper;
  args: string[];
  /** `KEY=value` entries; PATH and HOME are added when missing, as Docker does. */
  env: string[];
  /** Absolute working directory, created when missing. */
  cwd: string;
  /** `name`, `uid`, `uid:gid`, `name:group` (resolved in the rootfs's /etc/passwd and /etc/group); root when unset. */
  user?: string;
  hostname?: string;
  network: 'host' | 'none';
  mounts?: ContainerMount[];
  limits?: ContainerLimits;
  tty?: boolean;
  stdin?: boolean;
  /**
   * `docker run --init`: a minimal init is PID 1, runs the command, passes signals on and reaps
   * orphans. Without it the command itself is PID 1, as in BuildKit's RUN and `docker run`.
   */
  init?: boolean;
  /**
   * `--security-opt no-new-privileges`: the process and its children cannot gain privileges (a
   * setuid `su` or `sudo` stays the user). Off when unset, as under docker and in BuildKit's RUN.
   */
  noNewPrivileges?: boolean;
  /** Docker's default seccomp filter (`default`, when unset) or none (`--security-opt seccomp=unconfined`). */
  seccomp?: 'default' | 'unconfined';
  /**
   * The /etc files mounted over the image's: `build` as BuildKit does for a RUN step (/etc/hosts
   * and /etc/resolv.conf, read-only; /etc/hostname stays the image's own, so a step may change it),
   * `run` as `docker run` does (those two and /etc/hostname, writable). `build` when unset.
   */
  etcFiles?: 'build' | 'run';
}

export interface RunResult {
  /** The process's exit code, or 128+N when signal N ended it. */
  exitCode: number;
  /** Name of the signal that ended the process (`SIGKILL`), if one did. */
  signal?: string;
  /** The kernel's OOM killer acted in the container's memory cgroup. */
  oomKilled: boolean;
}

function absolute(field: string, p: string | undefined): void {
  if (!p || !p.startsWith('/')) throw new InvalidContainerSpecError(field, `${JSON.stringify(p ?? '')} must be an absolute path`);
}

/** Rejects what the helper would fail on later with a less helpful message. */
export function validateSpec(spec: ContainerSpec): void {
  absolute('rootfs', spec.rootfs);
  absolute('cwd', spec.cwd);
  if (spec.args.length === 0) throw new InvalidContainerSpecError('args', 'no command to run');
  if (spec.network !== 'host' && spec.network !== 'none') {
    throw new InvalidContainerSpecError('network', `${JSON.stringify(spec.network)} is not supported; use "host" or "none"`);
  }
  for (const e of spec.env) {
    if (!e.includes('=')) throw new InvalidContainerSpecError('env', `${JSON.stringify(e)} is not KEY=value`);
  }
  if (spec.upper) {
    absolute('upper.upperDir', spec.upper.upperDir);
    absolute('upper.workDir', spec.upper.workDir);
    // The overlay's option string separates lowers with ':' and options with ','.
    for (const dir of [spec.rootfs, ...spec.upper.lowers, spec.upper.upperDir, spec.upper.workDir]) {
      if (/[:,]/.test(dir)) throw new InvalidContainerSpecError('upper', `overlay paths cannot contain ':' or ',' (${dir})`);
    }
    spec.upper.lowers.forEach((l, i) => absolute(`upper.lowers[${i}]`, l));
  }
  if (spec.etcFiles !== undefined && spec.etcFiles !== 'build' && spec.etcFiles !== 'run') {
    throw new InvalidContainerSpecError('etcFiles', `${JSON.stringify(spec.etcFiles)} is not build or run`);
  }
  for (const [i, m] of (spec.mounts ?? []).entries()) {
    absolute(`mounts[${i}].target`, m.target);
    if (m.type === 'bind') absolute(`mounts[${i}].source`, m.source);
    else if (m.type !== 'tmpfs') throw new InvalidContainerSpecError(`mounts[${i}].type`, `${JSON.stringify(m.type)} is not bind or tmpfs`);
  }
}
