// `kiln run -d`: the container's supervisor as a detached node process (its own session, output in
// the container's log), started from here and run by this same file, compiled, as its entry point
// (kiln itself may run bundled, so the compiled file is named by path). The starter waits until
// the container runs, or hears why it could not.

import { fork } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import path from 'node:path';
import { KilnError, isUserError } from '../errors/kiln-error.js';
import { PACKAGE_DIR } from '../native/package-dir.js';
import { openSnapshotter } from '../snapshotter/open-snapshotter.js';
import { Store } from '../snapshotter/store.js';
import { ContainerStore } from './containers.js';
import { superviseContainer } from './supervise.js';

type StartMessage = { type: 'started' } | { type: 'failed'; message: string; code?: string; userFacing: boolean };

/** A start failure the detached supervisor reported, with its original code. */
class DetachedStartError extends KilnError {
  constructor(
    message: string,
    readonly code: string,
    readonly userFacing: boolean,
  ) {
    super(message);
    this.name = 'DetachedStartError';
  }
}

const SELF = path.join(PACKAGE_DIR, 'dist', 'runner', 'detach.js');

/** Starts the supervisor of recorded container `id` and resolves once its command runs. */
export async function startDetached(root: string, id: string): Promise<void> {
  // The supervisor's own stderr (a crash of kiln itself) goes beside the container's log.
  const fd = openSync(path.join(new ContainerStore(root).containerDir(id), 'supervisor.log'), 'a');
  let child;
  try {
    child = fork(SELF, [root, id], { detached: true, cwd: '/', stdio: ['ignore', fd, fd, 'ipc'] });
  } finally {
    closeSync(fd);
  }
  const msg = await new Promise<StartMessage>((resolve, reject) => {
    child.once('message', (m) => resolve(m as StartMessage));
    child.once('error', reject);
    child.once('exit', (code, signal) =>
      resolve({ type: 'failed', message: `the container's supervisor exited (${signal ?? code}) before it started; see ${root}/containers/${id}/supervisor.log`, userFacing: true }),
    );
  });
  if (child.connected) child.disconnect();
  child.unref();
  if (msg.type === 'failed') throw new DetachedStartError(msg.message, msg.code ?? 'KILN_RUN_SETUP', msg.userFacing);
}

async function supervise(root: string, id: string): Promise<void> {
  const send = (m: StartMessage) => {
    if (process.connected) process.send?.(m);
  };
  try {
    const store = await Store.open(root);
    const snapshotter = await openSnapshotter(root);
    await superviseContainer(store, snapshotter, id, { onStarted: () => send({ type: 'started' }) });
  } catch (err) {
    const userFacing = isUserError(err);
    const e = err as Error & { code?: unknown };
    send({ type: 'failed', message: e.message, ...(typeof e.code === 'string' ? { code: e.code } : {}), userFacing });
    if (!userFacing) process.stderr.write(`${e.stack ?? e.message}\n`);
    process.exitCode = 125;
  } finally {
    if (process.connected) process.disconnect();
  }
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === SELF) {
  const [root, id] = process.argv.slice(2);
  if (root === undefined || id === undefined) throw new Error('usage: detach.js ROOT CONTAINER_ID');
  void supervise(root, id);
}
