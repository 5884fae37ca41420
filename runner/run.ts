// Running one container with the namespace helper: prepare the spec, create the cgroup, spawn
// kiln-ns with the spec on fd 3, its reports on fd 4 and terminal resizes on fd 5, stream stdio,
// and clean up after.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { lstat, mkdtemp, rm, rmdir, unlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { ContainerCgroup } from './cgroups.js';
import { ContainerSetupError, InvalidContainerSpecError } from './errors.js';
import { helperPath } from './helper-path.js';
import { prepareContainer } from './prepare.js';
import { DEFAULT_CAPABILITIES, DEFAULT_SECCOMP, MASKED_PATHS, READONLY_PATHS } from './security.js';
import type { ContainerSpec, RunResult } from './spec.js';
import { resizeCommand, type CallerTerminal } from './tty.js';

export interface RunIO {
  stdout?: (chunk: Buffer) => void;
  stderr?: (chunk: Buffer) => void;
  /** Piped to the container when `spec.stdin` is true; otherwise it reads /dev/null. */
  stdin?: NodeJS.ReadableStream;
  /**
   * Aborting ends the container: SIGKILL at once, as BuildKit cancels a RUN step, or with
   * `stopGraceMs` SIGTERM first (PID 1 hears it only if it handles it) and SIGKILL after that long.
   */
  signal?: AbortSignal;
  stopGraceMs?: number;
  /** Called once the command runs, with its PID 1 as the host sees it (the init's with `init`). */
  onStart?: (pid: number) => void;
  /** With `spec.tty`: the pty takes this terminal's size and follows its resizes. */
  terminal?: CallerTerminal;
  /**
   * Names the run (its cgroup `kiln/<id>`, its default hostname); `kiln run` passes the container's
   * id so that a sweep can tell whose a leftover cgroup is. Random when unset.
   */
  id?: string;
}

function signalName(n: number): string | undefined {
  return Object.entries(os.constants.signals).find(([, v]) => v === n)?.[0];
}

/** Removes the mount points the helper had to create in the rootfs, if they are still empty. */
async function removeStubs(spec: ContainerSpec, stubs: string[]): Promise<void> {
  const base = spec.upper ? spec.upper.upperDir : spec.rootfs;
  for (const rel of [...stubs].reverse()) {
    if (rel.split('/').includes('..')) continue;
    const p = path.join(base, rel);
    const s = await lstat(p).catch(() => undefined);
    if (s?.isDirectory()) await rmdir(p).catch(() => undefined);
    else if (s?.isFile() && s.size === 0) await unlink(p).catch(() => undefined);
  }
}

export async function runContainer(spec: ContainerSpec, io: RunIO = {}): Promise<RunResult> {
  io.signal?.throwIfAborted();
  if (io.id !== undefined && !/^[a-zA-Z0-9_-]+$/.test(io.id)) throw new InvalidContainerSpecError('id', `${JSON.stringify(io.id)} must be letters, digits, _ or -`);
  const id = io.id ?? randomBytes(8).toString('hex');
  const etcDir = await mkdtemp(path.join(os.tmpdir(), `kiln-run-${id}-`));
  let cgroup: ContainerCgroup | undefined;
  const reports: HelperReport[] = [];
  try {
    const prepared = await prepareContainer(spec, id, etcDir);
    cgroup = await ContainerCgroup.create(id, spec.limits);
    const helperSpec = {
      rootfs: spec.rootfs,
      overlay: spec.upper ? { lowers: spec.upper.lowers, upper: spec.upper.upperDir, work: spec.upper.workDir } : null,
      hostname: prepared.hostname,
      network: spec.network,
      mounts: prepared.mounts,
      cgroupProcs: cgroup.procsFiles,
      maskedPaths: MASKED_PATHS,
      readonlyPaths: READONLY_PATHS,
      init: spec.init ?? false,
      process: {
        args: spec.args,
        env: prepared.env,
        cwd: spec.cwd,
        uid: prepared.user.uid,
        gid: prepared.user.gid,
        groups: prepared.user.groups,
        capabilities: DEFAULT_CAPABILITIES,
        noNewPrivileges: spec.noNewPrivileges ?? false,
        ...(spec.seccomp !== 'unconfined' ? { seccomp: DEFAULT_SECCOMP } : {}),
        tty: spec.tty ?? false,
        ...(spec.tty && io.terminal ? { consoleSize: io.terminal.size } : {}),
      },
    };
    const ended = await runHelper(
      await helperPath(),
      {
        flags: [],
        specJson: JSON.stringify(helperSpec),
        ...(spec.stdin === true && io.stdin ? { stdin: io.stdin } : {}),
        ...(io.stdout ? { stdout: io.stdout } : {}),
        ...(io.stderr ? { stderr: io.stderr } : {}),
        ...(spec.tty === true && io.terminal ? { terminal: io.terminal } : {}),
        ...(io.signal ? { signal: io.signal } : {}),
        ...(io.stopGraceMs !== undefined ? { stopGraceMs: io.stopGraceMs } : {}),
        ...(io.onStart ? { onStart: io.onStart } : {}),
      },
      reports,
    );
    const oomKilled = await cgroup.oomKilled();
    const error = reports.find((r) => r.type === 'error');
    if (error) throw new ContainerSetupError(error.message);
    const signaled = reports.filter((r) => r.type === 'signaled').pop();
    if (ended.signal) {
      // The helper itself was killed (SIGKILL after the grace period): so was everything under it.
      return { exitCode: 128 + (os.constants.signals[ended.signal] ?? 0), signal: ended.signal, oomKilled };
    }
    const signal = signaled ? signalName(signaled.signal) : undefined;
    return { exitCode: ended.code ?? 0, ...(signal ? { signal } : {}), oomKilled };
  } finally {
    for (const r of reports) if (r.type === 'stubs') await removeStubs(spec, r.paths);
    await rm(etcDir, { recursive: true, force: true });
    await cgroup?.remove();
  }
}

/** One kiln-ns run: its flags (`--exec` or none), spec, stdio and terminal. */
export interface HelperRun {
  /** Flags before the fd ones: `['--exec']` for an exec, none for a new container. */
  flags: string[];
  specJson: string;
  /** Piped to the process; it reads /dev/null when unset. */
  stdin?: NodeJS.ReadableStream;
  stdout?: (chunk: Buffer) => void;
  stderr?: (chunk: Buffer) => void;
  /** Only for a tty process: the helper hears its resizes on fd 5. */
  terminal?: CallerTerminal;
  /** Aborting kills the container with SIGKILL; with `stopGraceMs`, SIGTERM (passed on) comes first. */
  signal?: AbortSignal;
  stopGraceMs?: number;
  /** The `started` report, as it comes. */
  onStart?: (pid: number) => void;
}

export type HelperReport =
  | { type: 'error'; message: string }
  | { type: 'stubs'; paths: string[] }
  | { type: 'started'; pid: number }
  | { type: 'signaled'; signal: number };

/** Spawns kiln-ns and resolves when it and its stdio have ended; its reports are pushed to `reports` as they come. */
export function runHelper(helper: string, run: HelperRun, reports: HelperReport[]): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  const { stdin, terminal } = run;
  const child = spawn(helper, [...run.flags, '--spec-fd', '3', '--report-fd', '4', ...(terminal ? ['--control-fd', '5'] : [])], {
    stdio: [stdin ? 'pipe' : 'ignore', 'pipe', 'pipe', 'pipe', 'pipe', ...(terminal ? (['pipe'] as const) : [])],
  });
  const specPipe = child.stdio[3] as Writable;
  const reportPipe = child.stdio[4] as Readable;
  specPipe.on('error', () => undefined);
  specPipe.end(run.specJson);
  const stopResizing = terminal ? followResizes(terminal, (child.stdio as ReadonlyArray<Readable | Writable | null | undefined>)[5] as Writable) : undefined;
  child.stdout?.on('data', (c: Buffer) => run.stdout?.(c));
  child.stderr?.on('data', (c: Buffer) => run.stderr?.(c));
  if (stdin && child.stdin) {
    // The process may exit without reading all of its input.
    child.stdin.on('error', () => undefined);
    stdin.pipe(child.stdin);
  }
  let pending = '';
  let started: number | undefined;
  reportPipe.on('data', (c: Buffer) => {
    pending += c.toString('utf8');
    let nl;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const report = JSON.parse(pending.slice(0, nl)) as HelperReport;
      pending = pending.slice(nl + 1);
      reports.push(report);
      if (report.type === 'started') {
        started = report.pid;
        run.onStart?.(report.pid);
      }
    }
  });

  let killTimer: NodeJS.Timeout | undefined;
  // SIGKILL to PID 1 ends its whole PID namespace, and the helper ends once the kernel has reaped
  // every process in it: when the helper is gone, so is the container. Before the command runs, the
  // helper itself is killed, and PID 1 with it by its parent-death signal.
  const kill = (): void => {
    if (started === undefined) {
      child.kill('SIGKILL');
      return;
    }
    try {
      process.kill(started, 'SIGKILL');
    } catch {
      // Already gone: the helper is about to end.
    }
  };
  const onAbort = () => {
    if (run.stopGraceMs === undefined) return kill();
    child.kill('SIGTERM');
    killTimer = setTimeout(kill, run.stopGraceMs);
  };
  run.signal?.addEventListener('abort', onAbort, { once: true });
  if (run.signal?.aborted) onAbort();
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    // 'close' comes after every stdio stream has ended, so no output is lost.
    child.on('close', (code, signal) => {
      stopResizing?.();
      run.signal?.removeEventListener('abort', onAbort);
      clearTimeout(killTimer);
      if (stdin && child.stdin) stdin.unpipe(child.stdin);
      resolve({ code, signal });
    });
  });
}

/** Sends each resize of `terminal` to the helper's control fd until the returned function is called. */
function followResizes(terminal: CallerTerminal, control: Writable): () => void {
  // The helper stops reading once its process ends; a late resize must not crash kiln.
  control.on('error', () => undefined);
  const stop = terminal.onResize((size) => control.write(resizeCommand(size)));
  return () => {
    stop();
    control.end();
  };
}
