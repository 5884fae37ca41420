// Running a recorded container to its end, in whichever kiln process supervises it (foreground
// `kiln run` or the detached one): its root from the snapshot, its output into log.jsonl, its pids
// and exit into state.json, signals passed on, and `--rm` honoured; and sweeping the cgroups of
// supervisors that were killed before they could.

import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import type { Writable } from 'node:stream';
import type { Snapshotter } from '../snapshotter/snapshots.js';
import type { Store } from '../snapshotter/store.js';
import { writeBundle } from './bundle.js';
import { sweepCgroups } from './cgroups.js';
import { LogWriter, type LogStream } from './container-log.js';
import { destroyContainer } from './container-create.js';
import { ContainerStore, type ContainerConfig } from './containers.js';
import { RuntimeError } from './errors.js';
import { runContainer } from './run.js';
import type { ContainerSpec, RunResult } from './spec.js';
import type { CallerTerminal } from './tty.js';

export interface SuperviseIO {
  /** Foreground output, besides the log. */
  stdout?: (chunk: Buffer) => void;
  stderr?: (chunk: Buffer) => void;
  stdin?: NodeJS.ReadableStream;
  /** The foreground terminal a tty container takes its size and resizes from. */
  terminal?: CallerTerminal;
  /** Called once the container's command runs (its pids are in state.json) or has already ended. */
  onStarted?: () => void;
}

/** Signals the supervisor passes to the container's command rather than dying of them. */
const FORWARDED: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT'];
const STOP_GRACE_MS = 10_000;

/**
 * Runs container `id` and returns how it ended. When it cannot start at all, it is removed (state,
 * snapshot, lease) and the error is thrown: nothing is left of a container that never ran.
 */
export async function superviseContainer(store: Store, snapshotter: Snapshotter, id: string, io: SuperviseIO = {}): Promise<RunResult> {
  const containers = new ContainerStore(store.root);
  await sweepContainerCgroups(containers);
  const { config } = await containers.get(id);
  let state = await containers.markRunning(config.id);
  const log = new LogWriter(path.join(containers.containerDir(config.id), 'log.jsonl'));
  const output = (stream: LogStream, extra?: (c: Buffer) => void) => (c: Buffer) => {
    log.write(stream, c);
    extra?.(c);
  };
  const abort = new AbortController();
  const forward = (sig: NodeJS.Signals): void => {
    if (state.containerPid === undefined) abort.abort();
    else signalQuietly(state.containerPid, sig);
  };
  for (const s of FORWARDED) process.on(s, forward);

  let started = false;
  const markStarted = (): void => {
    if (!started) io.onStarted?.();
    started = true;
  };
  let result: RunResult;
  let ended = false;
  // The helper reports the pid once the command runs; a run that never gets there reports none.
  let kilnStarted: (pid: number | undefined) => void = () => undefined;
  const kilnPid = new Promise<number | undefined>((resolve) => (kilnStarted = resolve));
  try {
    const run =
      config.runtime === 'runc'
        ? runWithRunc(snapshotter, config, containers, io, output, abort.signal)
        : runContainer(kilnSpec(snapshotter, config), {
            stdout: output('stdout', io.stdout),
            stderr: output('stderr', io.stderr),
            ...(io.stdin ? { stdin: io.stdin } : {}),
            ...(io.terminal ? { terminal: io.terminal } : {}),
            signal: abort.signal,
            stopGraceMs: STOP_GRACE_MS,
            onStart: kilnStarted,
            id: config.id,
          });
    const pid = config.runtime === 'runc' ? runcPid(`kiln-${config.id}`, () => ended) : kilnPid;
    const recorded = pid.then(async (containerPid) => {
      if (containerPid === undefined) return;
      state = await containers.updateState(config.id, (s) => ({ ...s, containerPid }));
      markStarted();
    });
    try {
      result = await run;
    } finally {
      ended = true;
      kilnStarted(undefined);
      await recorded;
    }
  } catch (err) {
    for (const s of FORWARDED) process.off(s, forward);
    await log.close();
    await destroyContainer(store, snapshotter, config);
    throw err;
  }
  for (const s of FORWARDED) process.off(s, forward);
  await log.close();
  await containers.updateState(config.id, (s) => ({
    status: 'exited',
    ...(s.pid !== undefined ? { pid: s.pid } : {}),
    ...(s.started !== undefined ? { started: s.started } : {}),
    exitCode: result.exitCode,
    ...(result.signal ? { signal: result.signal } : {}),
    oomKilled: result.oomKilled,
    finished: new Date().toISOString(),
  }));
  markStarted();
  if (config.autoRemove) await destroyContainer(store, snapshotter, config);
  return result;
}

/**
 * Removes the cgroups that supervisors killed with SIGKILL left behind: those of containers that
 * exited (a dead supervisor's container reads as exited) and hold no process. Not those of
 * containers still `created`: the list may be older than their start, and a starting
 * container's cgroup is empty for a moment (8 concurrent `kiln run -d` lost one that way).
 */
export async function sweepContainerCgroups(containers: ContainerStore): Promise<void> {
  const stopped = (await containers.list()).filter((r) => r.state.status === 'exited').map((r) => r.config.id);
  await sweepCgroups(stopped);
}

function signalQuietly(pid: number, sig: NodeJS.Signals | number): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Already gone: the container is ending anyway.
  }
}

/**
 * The spec with its root: on overlay the helper mounts the snapshot's layers itself inside the
 * container's mount namespace (nothing to leak on the host if we die); a copy snapshot is a full tree.
 */
function kilnSpec(snapshotter: Snapshotter, config: ContainerConfig): ContainerSpec {
  const upperDir = snapshotter.upperDir(config.snapshot);
  if (snapshotter.driver === 'copy') return { ...config.spec, rootfs: upperDir };
  return {
    ...config.spec,
    // The overlay driver keeps an active snapshot's work dir beside its layer dir.
    upper: { upperDir, workDir: path.join(path.dirname(upperDir), 'work'), lowers: snapshotter.parentDirs(config.snapshot) },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** runc knows its container's pid once it runs (its PID 1 is the command itself, or the init). */
async function runcPid(runcId: string, done: () => boolean): Promise<number | undefined> {
  while (!done()) {
    const out = await new Promise<string>((resolve) => {
      const child = spawn('runc', ['state', runcId], { stdio: ['ignore', 'pipe', 'ignore'] });
      let text = '';
      child.stdout.on('data', (c: Buffer) => (text += c.toString()));
      child.on('error', () => resolve(''));
      child.on('close', () => resolve(text));
    });
    try {
      const st = JSON.parse(out) as { status?: string; pid?: number };
      if (st.status === 'running' && st.pid) return st.pid;
    } catch {
      // Not created yet.
    }
    await sleep(50);
  }
  return undefined;
}

/** `--runtime=runc`: the snapshot mounted as the bundle's one root folder, and `runc run` on it. */
async function runWithRunc(
  snapshotter: Snapshotter,
  config: ContainerConfig,
  containers: ContainerStore,
  io: SuperviseIO,
  output: (stream: LogStream, extra?: (c: Buffer) => void) => (c: Buffer) => void,
  signal: AbortSignal,
): Promise<RunResult> {
  const mounted = await snapshotter.mount(config.snapshot);
  try {
    const bundle = path.join(containers.containerDir(config.id), 'bundle');
    await writeBundle({ ...config.spec, rootfs: mounted.dir }, bundle);
    const withStdin = config.spec.stdin === true && io.stdin !== undefined;
    const runcId = `kiln-${config.id}`;
    const child = spawn('runc', ['run', '--bundle', bundle, runcId], { stdio: [withStdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', output('stdout', io.stdout));
    child.stderr?.on('data', output('stderr', io.stderr));
    if (withStdin && child.stdin) {
      child.stdin.on('error', () => undefined);
      io.stdin?.pipe(child.stdin as Writable);
    }
    let killTimer: NodeJS.Timeout | undefined;
    const onAbort = () => {
      // runc run passes the signals it gets on to the container's process.
      child.kill('SIGTERM');
      killTimer = setTimeout(() => spawn('runc', ['kill', runcId, 'KILL'], { stdio: 'ignore' }).on('error', () => undefined), STOP_GRACE_MS);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    const ended = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
      child.on('error', (e: NodeJS.ErrnoException) =>
        reject(e.code === 'ENOENT' ? new RuntimeError('runc', 'runc is not installed (not found in PATH); install it or drop --runtime') : e),
      );
      child.on('close', (code, sig) => resolve({ code, signal: sig }));
    });
    signal.removeEventListener('abort', onAbort);
    clearTimeout(killTimer);
    if (withStdin) io.stdin?.unpipe(child.stdin as Writable);
    if (ended.signal) return { exitCode: 128 + (os.constants.signals[ended.signal] ?? 0), signal: ended.signal, oomKilled: false };
    return { exitCode: ended.code ?? 0, oomKilled: false };
  } finally {
    await mounted.release();
  }
}
