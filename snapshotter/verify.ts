// `kiln store verify`'s checks of what the snapshotter room owns: blobs against their names, image
// records against the blobs they need, snapshot records against their directories and parents,
// and mounts a killed process left that the start-up sweep could not remove (its other leftovers,
// temp files and leases, the start-up recovery clears). Each problem comes with the repair
// `--repair` makes: removing what nothing valid refers to, and marking an image whose blobs are
// damaged, never deleting one.
import { readdir, rm, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { MediaType, type Index, type Manifest } from '../oci/image-spec.js';
import { currentOwner, ownerAlive } from './lock.js';
import { SnapshotMeta } from './snapshot-meta.js';
import { recoverStore, type Recovered } from './recovery.js';
import type { Store } from './store.js';

export type ProblemArea = 'blob' | 'image' | 'snapshot' | 'mount' | 'cache';

/** What a kiln start clears of killed processes (see recovery.ts), done first so only the rest is reported. */
export function recoverLeftovers(root: string): Promise<Recovered> {
  return recoverStore(root, new SnapshotMeta(path.join(root, 'snapshots')));
}

export interface StoreProblem {
  area: ProblemArea;
  /** What the problem is about: a digest, an image name, a snapshot key, a path. */
  subject: string;
  problem: string;
  /** What --repair does about it, and doing it. */
  repair?: { what: string; run: () => Promise<void> };
}

/** Every blob's sha256 against its name; a corrupt blob is removed by repair (nothing valid can use it). */
export async function verifyBlobs(store: Store): Promise<{ problems: StoreProblem[]; corrupt: Set<string>; checked: number }> {
  const { checked, corrupt } = await store.content.fsck();
  const problems = corrupt.map((digest): StoreProblem => ({
    area: 'blob',
    subject: digest,
    problem: 'its content does not hash to its name',
    repair: { what: 'removed', run: () => store.content.delete(digest) },
  }));
  return { problems, corrupt: new Set(corrupt), checked };
}

/**
 * Each image record's manifest (or the manifests of its index that the store holds: a pull keeps
 * only the platforms it needed), config and layers: present and not corrupt.
 */
export async function verifyImages(store: Store, corrupt: ReadonlySet<string>): Promise<StoreProblem[]> {
  const problems: StoreProblem[] = [];
  const usable = async (digest: string) => !corrupt.has(digest) && (await store.content.has(digest));
  for (const rec of await store.images.list()) {
    const lacking: string[] = [];
    const needManifest = async (digest: string) => {
      if (!(await usable(digest))) return void lacking.push(`manifest ${digest}`);
      const m = await store.content.readJSON<Manifest>(digest);
      for (const d of [m.config, ...(m.layers ?? [])]) if (!(await usable(d.digest))) lacking.push(`${d === m.config ? 'config' : 'layer'} ${d.digest}`);
    };
    const t = rec.target;
    if (t.mediaType === MediaType.ociIndex || t.mediaType === MediaType.dockerManifestList) {
      if (!(await usable(t.digest))) lacking.push(`index ${t.digest}`);
      else {
        const children = (await store.content.readJSON<Index>(t.digest)).manifests;
        const held = [];
        for (const c of children) if (await store.content.has(c.digest)) held.push(c.digest);
        if (held.length === 0) lacking.push(`every manifest of index ${t.digest}`);
        for (const digest of held) await needManifest(digest);
      }
    } else await needManifest(t.digest);
    if (lacking.length === 0) continue;
    const reason = `lacks ${lacking.join(', ')} (missing or corrupt)`;
    problems.push({
      area: 'image',
      subject: rec.name,
      problem: rec.damaged ? `${reason}; marked damaged` : reason,
      ...(rec.damaged ? {} : { repair: { what: 'marked damaged (kept: pull, load or build it again to restore it)', run: () => store.images.markDamaged(rec.name, reason) } }),
    });
  }
  return problems;
}

/**
 * Snapshot records that cannot be read, that lost their directory or their parent, and directories
 * no record names; also returns the committed snapshots that are sound.
 */
export async function verifySnapshots(root: string): Promise<{ problems: StoreProblem[]; committed: Set<string> }> {
  const meta = new SnapshotMeta(path.join(root, 'snapshots'));
  const problems: StoreProblem[] = [];
  const { records, unreadable } = await meta.scan();
  for (const err of unreadable) {
    problems.push({ area: 'snapshot', subject: err.file, problem: `the record cannot be read (${err.message})`, repair: { what: 'removed', run: () => meta.locked(() => unlink(err.file)) } });
  }
  const byKey = new Map(records.map((r) => [r.key, r]));
  const broken = new Map<string, string>();
  for (const r of records) {
    if (!(await stat(meta.fsDir(r.id)).then((s) => s.isDirectory(), () => false))) broken.set(r.key, `its directory ${meta.fsDir(r.id)} is gone`);
    else if (r.parent !== undefined && byKey.get(r.parent)?.kind !== 'committed') broken.set(r.key, `its parent ${r.parent} is ${byKey.has(r.parent) ? 'not committed' : 'gone'}`);
  }
  // A snapshot on a broken one is broken too: its layers stack on what is gone.
  for (let grew = true; grew; ) {
    grew = false;
    for (const r of records) {
      if (broken.has(r.key) || r.parent === undefined || !broken.has(r.parent)) continue;
      broken.set(r.key, `it stacks on ${r.parent}, which is damaged`);
      grew = true;
    }
  }
  for (const [key, problem] of broken) {
    const id = byKey.get(key)!.id;
    problems.push({ area: 'snapshot', subject: key, problem, repair: { what: 'removed', run: () => meta.locked(async () => { await meta.delete(key); await rm(meta.snapshotDir(id), { recursive: true, force: true }); }) } });
  }
  const ids = new Set(records.map((r) => r.id));
  for (const name of await readdir(meta.dir).catch(() => [] as string[])) {
    if (!/^[0-9a-f]{16}$/.test(name) || ids.has(name)) continue;
    const dir = meta.snapshotDir(name);
    problems.push({
      area: 'snapshot',
      subject: dir,
      problem: 'no snapshot record names this directory (left by a killed build, or one being made right now)',
      repair: { what: 'removed', run: () => meta.locked(async () => { if (!(await meta.scan()).records.some((r) => r.id === name)) await rm(dir, { recursive: true, force: true }); }) },
    });
  }
  return { problems, committed: new Set(records.filter((r) => r.kind === 'committed' && !broken.has(r.key)).map((r) => r.key)) };
}

/** Mount points of processes that ended which opening the snapshots could not unmount. */
export async function verifyMounts(root: string): Promise<StoreProblem[]> {
  const mounts = path.join(root, 'snapshots', 'mounts');
  const dead = (owner: string) => owner !== '' && owner !== currentOwner() && !ownerAlive(owner);
  return (await readdir(mounts).catch(() => [] as string[]))
    .filter((name) => dead(name.slice(0, name.lastIndexOf('-'))))
    .map((name) => ({ area: 'mount', subject: path.join(mounts, name), problem: 'a mount point of a process that ended, still there after the sweep every kiln start makes' }));
}
