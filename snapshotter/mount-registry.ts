// Every mount this process holds, so none outlives it: on SIGINT/SIGTERM and at exit (a crash
// included) each one is lazily unmounted and its mount point removed.
import { rmdirSync } from 'node:fs';
import { rmdir } from 'node:fs/promises';
import { native } from '../native/binding.js';
import { hasCode, NOT_A_MOUNT } from '../native/native-error.js';

interface LiveMount {
  /** Who holds it, e.g. `<store>\0<snapshot key>`, for busy checks. */
  holder: string;
}

const live = new Map<string, LiveMount>();
let installed = false;

/**
 * Records `target` before it is mounted (so a signal arriving mid-mount still cleans it up) and
 * installs the process handlers on first use.
 */
export function trackMount(target: string, holder: string): void {
  install();
  live.set(target, { holder });
}

/** Mount points a holder has live. */
export function mountsHeldBy(holder: string): string[] {
  return [...live].filter(([, m]) => m.holder === holder).map(([t]) => t);
}

/**
 * Unmounts `target` and removes its mount point. A busy mount (a process still inside it) is
 * detached instead, so release never fails on a straggler; `mounted = false` is for a mount
 * that never happened.
 */
export async function releaseMount(target: string, mounted = true): Promise<void> {
  if (!live.has(target)) return;
  if (mounted) {
    try {
      await native.unmount(target);
    } catch (err) {
      if (!hasCode(err, NOT_A_MOUNT)) await native.unmount(target, { detach: true });
    }
  }
  live.delete(target);
  await rmdir(target).catch(() => undefined);
}

function releaseAllSync(): void {
  for (const target of [...live.keys()]) {
    try {
      native.unmountDetachSync(target);
    } catch {
      // Not mounted (yet): nothing to undo but the directory.
    }
    live.delete(target);
    try {
      rmdirSync(target);
    } catch {
      // Already gone, or it still holds something that is not ours to delete.
    }
  }
}

function onSignal(signal: NodeJS.Signals): void {
  releaseAllSync();
  // Another listener (the CLI's cancel) owns what the signal means; alone, we restore the
  // default so the process dies of the signal as it would have (exit status 130/143).
  if (process.listenerCount(signal) === 1) {
    process.removeListener(signal, onSignal);
    process.kill(process.pid, signal);
  }
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // 'exit' also runs after an uncaught error; only synchronous work can happen there.
  process.on('exit', releaseAllSync);
}
