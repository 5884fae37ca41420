// The exec op (RUN): the root mount prepared as a writable snapshot, the other mounts laid out
// (input binds, cache dirs, tmpfs, secrets), the process run by the runner, outputs committed.
import { chmod, chown, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runContainer } from '../../runner/run.js';
import type { ContainerMount } from '../../runner/spec.js';
import { MountType, NetMode, ROOT_MOUNT, type Mount } from '../llb/types.js';
import type { OpExecutor, OpResult, SolveEnv, VertexInfo } from '../types.js';
import { acquireCacheMount } from './cache-mounts.js';
import { MountSourceError, ProcessFailedError, SecretMissingError, UnsupportedOpError } from './errors.js';
import { resolveInRoot } from './root-path.js';
import { SnapshotWork } from './snapshot-work.js';
import { isFull, mountOf } from '../../snapshotter/disk-full.js';
import { DiskFullError } from '../../snapshotter/errors.js';

/** What one run holds besides snapshots: cache locks, secret files. */
interface Held {
  releases: (() => Promise<void>)[];
}

export const execOp: OpExecutor = {
  async run(v, inputs, env, log) {
    const exec = v.op.exec ?? {};
    const meta = exec.meta ?? {};
    const mounts = exec.mounts ?? [];
    const work = new SnapshotWork(env.snapshotter, v.digest);
    const held: Held = { releases: [] };
    const keep = new Set<string>();
    /** Writable snapshots whose contents become outputs, by output index. */
    const outputs = new Map<number, string>();
    try {
      const rootMount = mounts.find((m) => m.dest === ROOT_MOUNT);
      if (!rootMount) throw new UnsupportedOpError(`${v.name}: an exec op without a root mount`, 'the frontend always adds one; this definition is malformed');
      const containerMounts: ContainerMount[] = [];
      let rootfs = '';
      for (const m of mounts) {
        env.signal.throwIfAborted();
        const type = m.mountType ?? MountType.BIND;
        if (type === MountType.BIND) {
          const input = snapshotOf(m, inputs);
          const hasOutput = (m.output ?? 0) >= 0;
          if (m.dest === ROOT_MOUNT || !m.readonly) {
            const { key, dir } = await work.active(input);
            if (hasOutput) outputs.set(m.output ?? 0, key);
            if (m.dest === ROOT_MOUNT) rootfs = dir;
            else containerMounts.push({ type: 'bind', source: await bindSource(v, dir, m.selector), target: m.dest ?? '/' });
          } else {
            const dir = await work.view(input);
            containerMounts.push({ type: 'bind', source: await bindSource(v, dir, m.selector), target: m.dest ?? '/', readonly: true });
          }
        } else if (type === MountType.CACHE) {
          const seedSnapshot = (m.input ?? -1) >= 0 ? snapshotOf(m, inputs) : null;
          const seed = seedSnapshot !== null ? await selected(await work.view(seedSnapshot), m.selector) : undefined;
          const cache = await acquireCacheMount({ root: env.root, id: m.cacheOpt?.id || (m.dest ?? ''), sharing: m.cacheOpt?.sharing ?? 0, seed, signal: env.signal });
          held.releases.push(cache.release);
          containerMounts.push({ type: 'bind', source: cache.dir, target: m.dest ?? '/', readonly: m.readonly ?? false });
        } else if (type === MountType.TMPFS) {
          const size = Number(m.tmpfsOpt?.size ?? 0);
          containerMounts.push({ type: 'tmpfs', target: m.dest ?? '/', options: size > 0 ? [`size=${size}`] : [] });
        } else if (type === MountType.SECRET) {
          const file = await secretFile(v, m, env, held);
          if (file) containerMounts.push({ type: 'bind', source: file, target: m.dest ?? '/', readonly: true });
        } else if (type === MountType.SSH) {
          if (!m.sshOpt?.optional) throw new UnsupportedOpError(`${v.name}: RUN --mount=type=ssh`, 'copy what the step needs with a secret mount instead');
        } else {
          throw new UnsupportedOpError(`${v.name}: mount type ${type}`, 'use bind, cache, tmpfs or secret mounts');
        }
      }

      const args = meta.args ?? [];
      const result = await runContainer(
        {
          rootfs,
          args,
          env: [...(meta.env ?? []), ...secretEnv(v, env)],
          cwd: meta.cwd || '/',
          ...(meta.user ? { user: meta.user } : {}),
          ...(meta.hostname ? { hostname: meta.hostname } : {}),
          // kiln has no bridge network: a sandboxed step shares the host's network unless it asked for none.
          network: exec.network === NetMode.NONE ? 'none' : 'host',
          mounts: containerMounts,
        },
        { stdout: (c) => log('stdout', c), stderr: (c) => log('stderr', c), signal: env.signal },
      );
      env.signal.throwIfAborted();
      const valid = meta.validExitCodes?.length ? meta.validExitCodes : [0];
      if (!valid.includes(result.exitCode)) {
        const failed = new ProcessFailedError(v.name, args, result.exitCode, result.signal, result.oomKilled);
        // A process that filled the disk fails in its own words (dd: "No space left"); say what happened to the store.
        if (await isFull(rootfs)) throw new DiskFullError(env.root, mountOf(env.root), `the step ran (its process exited ${result.exitCode})`, failed);
        throw failed;
      }

      const results: OpResult[] = [];
      for (const [index, key] of outputs) {
        const snapshot = await work.commit(key);
        keep.add(snapshot);
        results[index] = { snapshot };
      }
      return results;
    } finally {
      for (const r of held.releases) await r().catch(() => undefined);
      await work.cleanup(keep);
    }
  },
};

function snapshotOf(m: Mount, inputs: OpResult[]): string | null {
  const i = m.input ?? 0;
  return i < 0 ? null : inputs[i]!.snapshot;
}

/** The mount's `selector` (a sub-path of its input) inside `dir`, resolved without leaving it. */
async function selected(dir: string, selector: string | undefined): Promise<string> {
  return selector ? resolveInRoot(dir, selector) : dir;
}

/** A bind mount's source, which must exist (a selector naming nothing, or a symlink to nothing there, is the user's). */
async function bindSource(v: VertexInfo, dir: string, selector: string | undefined): Promise<string> {
  const source = await selected(dir, selector);
  if (selector && !(await stat(source).then(() => true, () => false))) throw new MountSourceError(v.name, selector);
  return source;
}

/** The secret in a private temp file with the mount's owner and mode; never in the snapshot. */
async function secretFile(v: VertexInfo, m: Mount, env: SolveEnv, held: Held): Promise<string | undefined> {
  const opt = m.secretOpt ?? {};
  const id = opt.id ?? '';
  const data = env.secrets.get(id);
  if (data === undefined) {
    if (opt.optional) return undefined;
    throw new SecretMissingError(v.name, id);
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kiln-secret-'));
  held.releases.push(() => rm(dir, { recursive: true, force: true }));
  await chmod(dir, 0o711);
  const file = path.join(dir, 'secret');
  await writeFile(file, data, { mode: 0o600 });
  await chown(file, opt.uid ?? 0, opt.gid ?? 0);
  await chmod(file, (opt.mode ?? 0o400) & 0o7777);
  return file;
}

function secretEnv(v: VertexInfo, env: SolveEnv): string[] {
  const out: string[] = [];
  for (const s of v.op.exec?.secretEnv ?? []) {
    const data = env.secrets.get(s.id ?? '');
    if (data === undefined) {
      if (s.optional) continue;
      throw new SecretMissingError(v.name, s.id ?? '');
    }
    out.push(`${s.name}=${data.toString('utf8')}`);
  }
  return out;
}
