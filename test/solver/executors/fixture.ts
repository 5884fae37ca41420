// Test fixture for the op executors: a real store and overlay snapshotter under a temp root, a
// SolveEnv over them, helpers to make committed snapshots from file lists and read them back.
import { execFileSync } from 'node:child_process';
import { chmod, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { native } from '../../../native/binding.js';
import { hostPlatform } from '../../../oci/platform.js';
import type { Snapshotter } from '../../../snapshotter/snapshots.js';
import { openSnapshotter } from '../../../snapshotter/open-snapshotter.js';
import { Store } from '../../../snapshotter/store.js';
import type { Op } from '../../../solver/llb/types.js';
import type { SolveEnv, VertexInfo } from '../../../solver/types.js';
import { mountsUnder } from '../../helpers/mountinfo.js';

export interface Fixture {
  root: string;
  env: SolveEnv;
  snapshotter: Snapshotter;
  cleanup(): Promise<void>;
}

export async function openFixture(opts: { contextDir?: string; secrets?: Map<string, Buffer> } = {}): Promise<Fixture> {
  const root = await mkdtemp(path.join(tmpdir(), 'kiln-exec-test-'));
  const store = await Store.open(root);
  const snapshotter = await openSnapshotter(root, { driver: 'overlay' });
  const env: SolveEnv = {
    store, snapshotter, root,
    lease: await store.leases.create({ owned: true }),
    contextDir: opts.contextDir ?? root,
    secrets: opts.secrets ?? new Map(),
    signal: new AbortController().signal,
    platform: hostPlatform(),
    emit: () => undefined,
  };
  return {
    root, env, snapshotter,
    async cleanup() {
      const left = await mountsUnder(root);
      for (const m of [...left].reverse()) await native.unmount(m.mountPoint, { detach: true }).catch(() => undefined);
      await rm(root, { recursive: true, force: true });
      if (left.length > 0) throw new Error(`mounts left under ${root}: ${left.map((m) => m.mountPoint).join(', ')}`);
    },
  };
}

let counter = 0;
export function vertex(op: Op, name = 'step'): VertexInfo {
  return { digest: `sha256:${(++counter).toString(16).padStart(64, '0')}`, op, name, inputs: [] };
}

/** `mtime` (seconds) of a directory is set after all entries are written, since writing into it moves it. */
export type Entry = string | { link: string } | { dir: true; mode?: number; uid?: number; mtime?: number } | { file: string; mode?: number; uid?: number };

export async function writeTree(dir: string, files: Record<string, Entry>): Promise<void> {
  for (const [rel, e] of Object.entries(files)) {
    const p = path.join(dir, rel);
    await mkdir(path.dirname(p), { recursive: true });
    if (typeof e === 'string') await writeFile(p, e);
    else if ('link' in e) await symlink(e.link, p);
    else if ('dir' in e) {
      await mkdir(p, { recursive: true });
      await chmod(p, e.mode ?? 0o755);
      if (e.uid !== undefined) execFileSync('chown', [String(e.uid), p]);
    } else {
      await writeFile(p, e.file, { mode: e.mode ?? 0o644 });
      if (e.uid !== undefined) execFileSync('chown', [String(e.uid), p]);
    }
  }
  for (const [rel, e] of Object.entries(files)) {
    if (typeof e === 'object' && 'dir' in e && e.mtime !== undefined) await utimes(path.join(dir, rel), e.mtime, e.mtime);
  }
}

/** A committed snapshot holding `files`. */
export async function snapshotOf(fx: Fixture, files: Record<string, Entry>, parent?: string): Promise<string> {
  const key = `fixture-${++counter}`;
  await fx.snapshotter.prepare(`${key}-rw`, parent);
  const m = await fx.snapshotter.mount(`${key}-rw`);
  try {
    await writeTree(m.dir, files);
  } finally {
    await m.release();
  }
  await fx.snapshotter.commit(key, `${key}-rw`);
  return key;
}

/** Runs `fn` on a read-only mount of committed `snapshot`. */
export async function withView<T>(fx: Fixture, snapshot: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const key = `view-${++counter}`;
  await fx.snapshotter.view(key, snapshot);
  const m = await fx.snapshotter.mount(key);
  try {
    return await fn(m.dir);
  } finally {
    await m.release();
    await fx.snapshotter.remove(key);
  }
}

/** Every entry below `dir`: files as their content, links as `-> target`, dirs as `/`. */
export async function listTree(dir: string, prefix = ''): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of (await readdir(path.join(dir, prefix))).sort()) {
    const rel = prefix ? `${prefix}/${name}` : name;
    const st = await lstat(path.join(dir, rel));
    if (st.isSymbolicLink()) out[rel] = `-> ${await readlink(path.join(dir, rel))}`;
    else if (st.isDirectory()) {
      out[rel] = '/';
      Object.assign(out, await listTree(dir, rel));
    } else out[rel] = await readFile(path.join(dir, rel), 'utf8');
  }
  return out;
}
