// Running one container with the namespace helper: prepare the spec, create the cgroup, spawn
// kiln-ns with the spec on fd 3 and its reports on fd 4, stream stdio, and clean up after.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { lstat, mkdtemp, rm, rmdir, unlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { ContainerCgroup } from './cgroups.js';
import { ContainerSetupError } from './errors.js';
import { helperPath } from './helper-path.js';
import { prepareContainer } from './prepare.js';
import { DEFAULT_CAPABILITIES, MASKED_PATHS, READONLY_PATHS } from './security.js';
import type { ContainerSpec, RunResult } from './spec.js';

export interface RunIO {
  stdout?: (chunk: Buffer) => void;
  stderr?: (chunk: Buffer) => void;
  /** Piped to the container when `spec.stdin` is true; otherwise it reads /dev/null. */
  stdin?: NodeJS.ReadableStream;
  /** Aborting sends SIGTERM to the container's process, then SIGKILL after a grace period. */
  signal?: AbortSignal;
}

/** `docker stop`'s default grace between SIGTERM and SIGKILL. */
const STOP_GRACE_MS = 10_000;

type Report = { type: 'error'; message: string } | { type: 'stubs'; paths: string[] } | { type: 'signaled'; signal: number };

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
  const id = randomBytes(8).toString('hex');
  const etcDir = await mkdtemp(path.join(os.tmpdir(), `kiln-run-${id}-`));
  let cgroup: ContainerCgroup | undefined;
  const reports: Report[] = [];
  try {
    const prepared = await prepareContainer(spec, id, etcDir);
    cgroup = await ContainerCgroup.create(id, spec.limits);
    const helperSpec = {
      rootfs: spec.rootfs,
      overlay: spec.upper ? { lowers: spec.upper.lowers, upper: spec.upper.upperDir, work: spec.upper.workDir } : null,
      args: spec.args,
      env: prepared.env,
      cwd: spec.cwd,
      uid: prepared.user.uid,
      gid: prepared.user.gid,
      groups: prepared.user.groups,
      hostname: prepared.hostname,
      network: spec.network,
      mounts: prepared.mounts,
      cgroupProcs: cgroup.procsFiles,
      capabilities: DEFAULT_CAPABILITIES,
      maskedPaths: MASKED_PATHS,
      readonlyPaths: READONLY_PATHS,
      noNewPrivileges: true,
      tty: spec.tty ?? false,
    };
    const ended = await runHelper(await helperPath(), JSON.stringify(helperSpec), spec, io, reports);
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

function runHelper(
  helper: string,
  specJson: string,
  spec: ContainerSpec,
  io: RunIO,
  reports: Report[],
): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  const withStdin = spec.stdin === true && io.stdin !== undefined;
  const child = spawn(helper, ['--spec-fd', '3', '--report-fd', '4'], {
    stdio: [withStdin ? 'pipe' : 'ignore', 'pipe', 'pipe', 'pipe', 'pipe'],
  });
  const specPipe = child.stdio[3] as Writable;
  const reportPipe = child.stdio[4] as Readable;
  specPipe.on('error', () => undefined);
  specPipe.end(specJson);
  child.stdout?.on('data', (c: Buffer) => io.stdout?.(c));
  child.stderr?.on('data', (c: Buffer) => io.stderr?.(c));
  if (withStdin && child.stdin) {
    // The container may exit without reading all of its input.
    child.stdin.on('error', () => undefined);
    io.stdin?.pipe(child.stdin);
  }
  let pending = '';
  reportPipe.on('data', (c: Buffer) => {
    pending += c.toString('utf8');
    let nl;
    while ((nl = pending.indexOf('\n')) >= 0) {
      reports.push(JSON.parse(pending.slice(0, nl)) as Report);
      pending = pending.slice(nl + 1);
    }
  });

  let killTimer: NodeJS.Timeout | undefined;
  const onAbort = () => {
    child.kill('SIGTERM');
    killTimer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  };
  io.signal?.addEventListener('abort', onAbort, { once: true });
  if (io.signal?.aborted) onAbort();
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    // 'close' comes after every stdio stream has ended, so no output is lost.
    child.on('close', (code, signal) => {
      io.signal?.removeEventListener('abort', onAbort);
      clearTimeout(killTimer);
      if (withStdin) io.stdin?.unpipe(child.stdin as Writable);
      resolve({ code, signal });
    });
  });
}
