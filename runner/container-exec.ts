// `kiln exec`: a new process inside a running container, through util-linux's nsenter on the
// container's init (mount, UTS, IPC, network and PID namespaces, and its root), with the
// container's environment and user rules.

import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import type { Writable } from 'node:stream';
import { mergeEnv } from './command-line.js';
import type { ContainerRecord } from './containers.js';
import { ContainerStateError, RuntimeError } from './errors.js';
import { DEFAULT_PATH } from './security.js';
import { parseGroup, parsePasswd, resolveUser } from './user.js';

export interface ExecOptions {
  args: string[];
  /** `-e` entries over the container's environment. */
  env: string[];
  /** Absolute; the container's working directory when unset. */
  cwd?: string;
  /** The container's user when unset. */
  user?: string;
  /** -i: pass stdin through. */
  stdin: boolean;
  /** -t: the process shares kiln's own terminal (nsenter allocates none). */
  tty: boolean;
}

export interface ExecIO {
  stdin: NodeJS.ReadableStream;
  stdout: Writable;
  stderr: Writable;
}

/** Runs the process and resolves with its exit status (126/127 when it cannot be run, as nsenter reports). */
export async function execInContainer(rec: ContainerRecord, opts: ExecOptions, io: ExecIO): Promise<number> {
  const init = rec.state.initPid;
  if (rec.state.status !== 'running' || init === undefined) throw new ContainerStateError(rec.config.name, 'is not running');
  // The container's own /etc files, seen through its init's root.
  const etc = (f: string) => readFile(`/proc/${init}/root/etc/${f}`, 'utf8').catch(() => undefined);
  const user = resolveUser(opts.user ?? rec.config.spec.user, parsePasswd(await etc('passwd')), parseGroup(await etc('group')));
  let env = mergeEnv(rec.config.spec.env, opts.env);
  if (!env.some((e) => e.startsWith('PATH='))) env = [...env, `PATH=${DEFAULT_PATH}`];
  if (!env.some((e) => e.startsWith('HOME='))) env = [...env, `HOME=${user.home}`];
  const args = [
    '--target', String(init), '--mount', '--uts', '--ipc', '--net', '--pid', '--root',
    `--wdns=${opts.cwd ?? rec.config.spec.cwd}`,
    `--setuid=${user.uid}`, `--setgid=${user.gid}`,
    '--', ...opts.args,
  ];
  const envObj = Object.fromEntries(env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
  const child = spawn('nsenter', args, {
    env: envObj,
    stdio: [opts.stdin ? (opts.tty ? 'inherit' : 'pipe') : 'ignore', opts.tty ? 'inherit' : 'pipe', opts.tty ? 'inherit' : 'pipe'],
  });
  child.stdout?.on('data', (c: Buffer) => io.stdout.write(c));
  child.stderr?.on('data', (c: Buffer) => io.stderr.write(c));
  if (child.stdin) {
    child.stdin.on('error', () => undefined);
    io.stdin.pipe(child.stdin);
  }
  return new Promise((resolve, reject) => {
    child.on('error', (e: NodeJS.ErrnoException) =>
      reject(e.code === 'ENOENT' ? new RuntimeError('nsenter', 'not found in PATH; install util-linux') : e),
    );
    child.on('close', (code, signal) => {
      if (child.stdin) io.stdin.unpipe(child.stdin);
      resolve(signal ? 128 + (os.constants.signals[signal] ?? 0) : code ?? 0);
    });
  });
}
