// Running containers from the library: `runContainer` creates one from an image and runs it in
// the foreground or starts it detached; `execContainer` runs another process in a running one.
import type { Snapshotter } from '../snapshotter/snapshots.js';
import type { Store } from '../snapshotter/store.js';
import { createContainer, type CreateOptions } from '../runner/container-create.js';
import { execInContainer, type ExecIO, type ExecOptions } from '../runner/container-exec.js';
import type { ContainerStore } from '../runner/containers.js';
import { startDetached } from '../runner/detach.js';
import type { RunResult } from '../runner/spec.js';
import { superviseContainer, type SuperviseIO } from '../runner/supervise.js';

export type { CreateOptions as RunOptions } from '../runner/container-create.js';
export type { ExecIO, ExecOptions } from '../runner/container-exec.js';
export type { SuperviseIO as RunIO } from '../runner/supervise.js';
export type { RunResult, ContainerLimits, ContainerMount } from '../runner/spec.js';
export type { CallerTerminal, TerminalSize } from '../runner/tty.js';

export type RunOutcome = { id: string; detached: true } | ({ id: string; detached: false } & RunResult);

/**
 * Creates the container; detached, returns once its command runs (a supervisor process of its own
 * keeps it), else runs it to the end with `io` as its foreground stdio.
 */
export async function runContainer(store: Store, snapshotter: Snapshotter, opts: CreateOptions & { detach?: boolean }, io: SuperviseIO = {}): Promise<RunOutcome> {
  const { detach, ...create } = opts;
  const { config } = await createContainer(store, snapshotter, create);
  if (detach) {
    await startDetached(store.root, config.id);
    return { id: config.id, detached: true };
  }
  return { id: config.id, detached: false, ...(await superviseContainer(store, snapshotter, config.id, io)) };
}

/** Runs a process in a running container; resolves with its exit status. */
export async function execContainer(containers: ContainerStore, ref: string, opts: ExecOptions, io: ExecIO): Promise<number> {
  return execInContainer(await containers.get(ref), opts, io);
}
