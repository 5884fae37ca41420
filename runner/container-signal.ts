// Signalling a running container from any kiln process (kill, stop, rm -f) through the pids its
// supervisor recorded, and waiting for the supervisor to record the end.

import os from 'node:os';
import { ownerAlive } from '../snapshotter/lock.js';
import { ContainerStore, type ContainerRecord } from './containers.js';
import { ContainerStateError, UnknownSignalError } from './errors.js';

/** `KILL`, `SIGKILL` or `9` → the signal's name. */
export function parseSignal(text: string): NodeJS.Signals {
  const signals = os.constants.signals as Record<string, number>;
  if (/^\d+$/.test(text)) {
    const name = Object.keys(signals).find((k) => signals[k] === Number(text));
    if (name) return name as NodeJS.Signals;
  } else {
    const name = text.toUpperCase().startsWith('SIG') ? text.toUpperCase() : `SIG${text.toUpperCase()}`;
    if (name in signals) return name as NodeJS.Signals;
  }
  throw new UnknownSignalError(text);
}

function send(pid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
}

/**
 * Sends `sig` to the container's PID 1, as docker does: from outside its PID namespace only a
 * signal it handles reaches it, and SIGKILL, which ends the namespace, stragglers included. Before
 * the pid is known (it is starting), the supervisor gets it: it forwards SIGTERM and the like, or
 * tears the start down.
 */
export function signalContainer(rec: ContainerRecord, sig: NodeJS.Signals): void {
  const { state } = rec;
  if (state.status !== 'running') throw new ContainerStateError(rec.config.name, 'is not running');
  if (state.containerPid !== undefined && send(state.containerPid, sig)) return;
  if (state.pid !== undefined) send(state.pid, sig === 'SIGKILL' ? 'SIGTERM' : sig);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Waits until the container is recorded as no longer running (or removed, for `--rm`) and, with
 * `supervisor`, until its supervisor has exited too (it may still be removing an `--rm` container).
 */
export async function waitStopped(containers: ContainerStore, rec: ContainerRecord, timeoutMs: number, supervisor = false): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = await containers.state(rec.config.id).catch(() => undefined);
    const stopped = state === undefined || state.status !== 'running';
    const owner = state?.owner ?? rec.state.owner;
    if (stopped && (!supervisor || owner === undefined || !ownerAlive(owner))) return true;
    if (Date.now() >= deadline) return false;
    await sleep(25);
  }
}

/** `docker stop`: SIGTERM, then SIGKILL once `graceMs` has passed. */
export async function stopContainer(containers: ContainerStore, rec: ContainerRecord, graceMs: number): Promise<void> {
  if (rec.state.status !== 'running') return;
  signalContainer(rec, 'SIGTERM');
  if (await waitStopped(containers, rec, graceMs)) return;
  const now = await containers.state(rec.config.id).catch(() => undefined);
  if (now?.status === 'running') signalContainer({ config: rec.config, state: now }, 'SIGKILL');
  await waitStopped(containers, rec, 10_000);
}
