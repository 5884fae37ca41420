// Cross-process locks for the store's shared records: an O_EXCL lock file naming its holder,
// taken over when that holder no longer runs. Also the process identity other stale-file checks use.
import { readFileSync } from 'node:fs';
import { open, readFile, rename, stat, unlink, link } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { LockTimeoutError } from './errors.js';

/** Kernel start time of a process (clock ticks since boot), or undefined when it does not exist. */
function startTime(pid: number | 'self'): string | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields[19];
}

const self = `${process.pid}.${startTime('self') ?? '0'}`;

/**
 * This process as written into lock files and temp names: `<pid>.<start time>`, so a pid the
 * kernel recycled after a crash is not mistaken for the crashed holder.
 */
export function currentOwner(): string {
  return self;
}

/** Whether the process an owner string names still runs (a bare pid is accepted too). */
export function ownerAlive(owner: string): boolean {
  const [pidText, start] = owner.trim().split('.');
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: it exists but belongs to someone else, which still counts as running.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  return start === undefined || startTime(pid) === start;
}

export interface LockOptions {
  /** How long to wait for a live holder before giving up (default 60 s). */
  timeoutMs?: number;
}

// Callers in one process queue here instead of polling the file against each other.
const inProcess = new Map<string, Promise<unknown>>();

/** Runs `fn` while holding the lock file `file` (created with O_EXCL, holding our owner string). */
export async function withLock<T>(file: string, fn: () => Promise<T>, opts: LockOptions = {}): Promise<T> {
  const key = path.resolve(file);
  const previous = inProcess.get(key) ?? Promise.resolve();
  const run = previous.catch(() => undefined).then(async () => {
    await acquire(key, opts.timeoutMs ?? 60_000);
    try {
      return await fn();
    } finally {
      await unlink(key).catch(() => undefined);
    }
  });
  inProcess.set(key, run);
  try {
    return await run;
  } finally {
    if (inProcess.get(key) === run) inProcess.delete(key);
  }
}

interface Holder {
  owner: string;
  ino: number;
  ageMs: number;
}

async function readHolder(file: string): Promise<Holder | undefined> {
  try {
    const [owner, st] = await Promise.all([readFile(file, 'utf8'), stat(file)]);
    return { owner: owner.trim(), ino: st.ino, ageMs: Date.now() - st.mtimeMs };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

// A holder is between its O_EXCL create and its write for microseconds; an empty file older than
// this was left by a process that died in that gap.
const EMPTY_GRACE_MS = 2_000;

function isStale(h: Holder): boolean {
  if (h.owner === '') return h.ageMs > EMPTY_GRACE_MS;
  // Our own owner string with no in-process holder is a lock we failed to remove.
  return h.owner === self || !ownerAlive(h.owner);
}

async function acquire(file: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let delay = 2;
  for (;;) {
    try {
      const fh = await open(file, 'wx', 0o644);
      try {
        await fh.writeFile(self);
      } finally {
        await fh.close();
      }
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = await readHolder(file);
    if (holder === undefined) continue;
    if (isStale(holder)) {
      await breakStale(file, holder);
      continue;
    }
    if (Date.now() >= deadline) throw new LockTimeoutError(file, holder.owner.split('.')[0] ?? '', timeoutMs);
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 100);
  }
}

/**
 * Removes a dead holder's lock. Two waiters may judge the same file stale at once: the file is
 * moved aside first and removed only if it is still the one judged (same inode); a fresh lock
 * taken meanwhile by the other waiter is put back.
 */
async function breakStale(file: string, judged: Holder): Promise<void> {
  const aside = `${file}.stale-${randomBytes(6).toString('hex')}`;
  try {
    await rename(file, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  const moved = await stat(aside);
  if (moved.ino !== judged.ino) await link(aside, file).catch(() => undefined);
  await unlink(aside).catch(() => undefined);
}
