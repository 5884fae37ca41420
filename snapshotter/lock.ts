// Cross-process locks for the store's shared records: flock on a lock file that stays in place,
// so the kernel releases a lock whatever ends its holder and taking one needs no free space.
// Also the process identity other stale-file checks use.
import { readFileSync } from 'node:fs';
import { open, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { native } from '../native/binding.js';
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
 * This process as written into lease records, mount names and temp names: `<pid>.<start time>`, so a pid the
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

/**
 * Runs `fn` while holding the lock file `file`. The file is created once and never removed:
 * removing it would let a waiter that opened the old file and a newcomer that created a new one
 * both hold "the" lock.
 */
export async function withLock<T>(file: string, fn: () => Promise<T>, opts: LockOptions = {}): Promise<T> {
  const key = path.resolve(file);
  const previous = inProcess.get(key) ?? Promise.resolve();
  const run = previous.catch(() => undefined).then(async () => {
    const fh = await acquire(key, opts.timeoutMs ?? 60_000);
    try {
      return await fn();
    } finally {
      await fh.close();
    }
  });
  inProcess.set(key, run);
  try {
    return await run;
  } finally {
    if (inProcess.get(key) === run) inProcess.delete(key);
  }
}

type Handle = Awaited<ReturnType<typeof open>>;

/**
 * Takes the lock file `file` if nobody holds it, without waiting: the release function, or
 * undefined when it is held (by another process, or by another caller in this one).
 */
export async function tryLock(file: string): Promise<(() => Promise<void>) | undefined> {
  const fh = await open(file, 'a', 0o644);
  let taken = false;
  try {
    taken = native.tryLockFile(fh.fd);
  } finally {
    if (!taken) await fh.close();
  }
  return taken ? () => fh.close() : undefined;
}

async function acquire(file: string, timeoutMs: number): Promise<Handle> {
  // Append mode creates the file if needed and never writes to it: an inode, no data blocks.
  const fh = await open(file, 'a', 0o644);
  try {
    const deadline = Date.now() + timeoutMs;
    let delay = 2;
    while (!native.tryLockFile(fh.fd)) {
      if (Date.now() >= deadline) throw new LockTimeoutError(file, await holderPid(file), timeoutMs);
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 100);
    }
    return fh;
  } catch (err) {
    await fh.close();
    throw err;
  }
}

/** The pid holding a flock on `file`, from /proc/locks (fields: n: FLOCK ADVISORY WRITE pid maj:min:inode …). */
async function holderPid(file: string): Promise<string> {
  try {
    const { ino } = await stat(file);
    for (const line of (await readFile('/proc/locks', 'utf8')).split('\n')) {
      const f = line.trim().split(/\s+/);
      if (f[1] === 'FLOCK' && Number(f[5]?.split(':')[2]) === ino) return f[4] ?? '';
    }
  } catch {
    // Only the message loses the pid.
  }
  return '';
}
