// `kiln exec`: a new process inside a running container, started by kiln-ns in its exec mode: it
// enters the container's namespaces and root, joins its cgroups, and gets its capabilities,
// no_new_privs, environment and user rules, with a pty from the container's devpts for -t.

import { readFile } from 'node:fs/promises';
import os from 'node:os';
import type { Writable } from 'node:stream';
import { cgroupProcsOf } from './cgroups.js';
import { mergeEnv } from './command-line.js';
import type { ContainerRecord } from './containers.js';
import { ContainerSetupError, ContainerStateError } from './errors.js';
import { helperPath } from './helper-path.js';
import { runHelper, type HelperReport } from './run.js';
import { DEFAULT_CAPABILITIES, DEFAULT_PATH, DEFAULT_SECCOMP } from './security.js';
import type { CallerTerminal } from './tty.js';
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
  /** -t: a pty from the container's own devpts as the process's stdio. */
  tty: boolean;
}

export interface ExecIO {
  stdin: NodeJS.ReadableStream;
  stdout: Writable;
  stderr: Writable;
  /** With -t: the pty takes this terminal's size and follows its resizes. */
  terminal?: CallerTerminal;
}

/** Runs the process and resolves with its exit status (126/127 when it cannot be run, as Docker reports). */
export async function execInContainer(rec: ContainerRecord, opts: ExecOptions, io: ExecIO): Promise<number> {
  const pid1 = rec.state.containerPid;
  const notRunning = () => new ContainerStateError(rec.config.name, 'is not running');
  if (rec.state.status !== 'running' || pid1 === undefined) throw notRunning();
  // The container's own /etc files, seen through its PID 1's root.
  const etc = (f: string) => readFile(`/proc/${pid1}/root/etc/${f}`, 'utf8').catch(() => undefined);
  const user = resolveUser(opts.user ?? rec.config.spec.user, parsePasswd(await etc('passwd')), parseGroup(await etc('group')));
  let env = mergeEnv(rec.config.spec.env, opts.env);
  if (!env.some((e) => e.startsWith('PATH='))) env = [...env, `PATH=${DEFAULT_PATH}`];
  if (!env.some((e) => e.startsWith('HOME='))) env = [...env, `HOME=${user.home}`];
  const cgroupProcs = await cgroupProcsOf(pid1).catch(() => {
    throw notRunning();
  });
  const terminal = opts.tty ? io.terminal : undefined;
  const spec = {
    targetPid: pid1,
    cgroupProcs,
    process: {
      args: opts.args,
      env,
      cwd: opts.cwd ?? rec.config.spec.cwd,
      uid: user.uid,
      gid: user.gid,
      groups: user.groups,
      capabilities: DEFAULT_CAPABILITIES,
      // As docker exec: the container's own setting.
      noNewPrivileges: rec.config.spec.noNewPrivileges ?? false,
      ...(rec.config.spec.seccomp !== 'unconfined' ? { seccomp: DEFAULT_SECCOMP } : {}),
      tty: opts.tty,
      ...(terminal ? { consoleSize: terminal.size } : {}),
    },
  };
  const reports: HelperReport[] = [];
  const ended = await runHelper(
    await helperPath(),
    {
      flags: ['--exec'],
      specJson: JSON.stringify(spec),
      ...(opts.stdin ? { stdin: io.stdin } : {}),
      stdout: (c) => io.stdout.write(c),
      stderr: (c) => io.stderr.write(c),
      ...(terminal ? { terminal } : {}),
    },
    reports,
  );
  const error = reports.find((r) => r.type === 'error');
  if (error) throw new ContainerSetupError(error.message);
  return ended.signal ? 128 + (os.constants.signals[ended.signal] ?? 0) : ended.code ?? 0;
}
