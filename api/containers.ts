// Containers made by `run`, as the library sees them: listing, logs, stopping, signalling,
// removing and committing. Each names a container by ID, ID prefix or name.
import path from 'node:path';
import { resolveRoot } from '../snapshotter/root.js';
import type { Snapshotter } from '../snapshotter/snapshots.js';
import type { Store } from '../snapshotter/store.js';
import { readLog, type LogEntry } from '../runner/container-log.js';
import { destroyContainer } from '../runner/container-create.js';
import { signalContainer, stopContainer as stopGracefully, waitStopped } from '../runner/container-signal.js';
import { ContainerStore, type ContainerRecord } from '../runner/containers.js';
import { sweepCgroups } from '../runner/cgroups.js';
import { sweepContainerCgroups } from '../runner/supervise.js';
import { ContainerStateError } from '../runner/errors.js';
import { commitSnapshot } from '../exporter/snapshot-commit.js';

export { ContainerStore, VALID_NAME, type ContainerRecord, type ContainerConfig, type ContainerState } from '../runner/containers.js';
export type { LogEntry } from '../runner/container-log.js';
export { parseSignal } from '../runner/container-signal.js';

/** The containers of the store at `root` (else $KILN_ROOT, else the default root). */
export function openContainers(root?: string, env: NodeJS.ProcessEnv = process.env): ContainerStore {
  return new ContainerStore(resolveRoot(root, env));
}

/** Every container, or only the running ones; states left by a killed supervisor are settled first. */
export async function listContainers(containers: ContainerStore, opts: { all?: boolean } = {}): Promise<ContainerRecord[]> {
  await sweepContainerCgroups(containers);
  const all = await containers.list();
  return opts.all ? all : all.filter((r) => r.state.status === 'running');
}

export interface LogOptions {
  /** Only the last N lines. */
  tail?: number;
  /** Keep reading until the container exits. */
  follow?: boolean;
}

/** Replays a container's output, entry by entry, as it was written. */
export async function containerLogs(containers: ContainerStore, ref: string, emit: (e: LogEntry) => void, opts: LogOptions = {}): Promise<void> {
  const id = (await containers.get(ref)).config.id;
  await readLog(path.join(containers.containerDir(id), 'log.jsonl'), emit, {
    ...(opts.tail !== undefined ? { tail: opts.tail } : {}),
    ...(opts.follow ? { until: async () => (await containers.state(id).catch(() => undefined))?.status !== 'running' } : {}),
  });
}

/** SIGTERM, then SIGKILL after `graceMs`, as `docker stop`. */
export async function stopContainer(containers: ContainerStore, ref: string, graceMs: number): Promise<void> {
  await stopGracefully(containers, await containers.get(ref), graceMs);
}

/** Sends a signal to the container's PID 1 (see `parseSignal` for `KILL`, `SIGKILL` or `9`). */
export async function killContainer(containers: ContainerStore, ref: string, signal: NodeJS.Signals): Promise<void> {
  signalContainer(await containers.get(ref), signal);
}

/** Removes a container (record, writable snapshot, lease); `force` kills a running one first. */
export async function removeContainer(store: Store, snapshotter: Snapshotter, ref: string, opts: { force?: boolean } = {}): Promise<void> {
  const containers = new ContainerStore(store.root);
  const rec = await containers.get(ref);
  if (rec.state.status === 'running') {
    if (!opts.force) throw new ContainerStateError(ref, "is running: stop it first ('kiln stop') or use 'kiln rm -f'");
    signalContainer(rec, 'SIGKILL');
    // The supervisor records the exit and lets go of the snapshot before it can be removed.
    if (!(await waitStopped(containers, rec, 20_000, true))) throw new ContainerStateError(ref, 'did not stop within 20 seconds');
  }
  // Stopped now; a supervisor killed with SIGKILL left its cgroups for us.
  await sweepCgroups([rec.config.id]);
  // An `--rm` container's supervisor may have removed it meanwhile.
  if ((await containers.list()).some((r) => r.config.id === rec.config.id)) await destroyContainer(store, snapshotter, rec.config);
}

/** A container's changes as a new image named `name`; returns the image ID (its config digest). */
export async function commitContainer(store: Store, snapshotter: Snapshotter, ref: string, name: string, opts: { message?: string } = {}): Promise<string> {
  const { config: c } = await new ContainerStore(store.root).get(ref);
  return commitSnapshot(store, snapshotter, {
    snapshot: c.snapshot,
    manifestDigest: c.manifestDigest,
    configDigest: c.configDigest,
    createdBy: c.spec.args.join(' '),
    ...(opts.message ? { message: opts.message } : {}),
    name,
  });
}
