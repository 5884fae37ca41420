// Creating a container from an image (its record, a lease, the unpacked image and a writable
// snapshot on top) and destroying one (snapshot, lease, record), all or nothing.

import path from 'node:path';
import { mkdir } from 'node:fs/promises';
import { resolveImage } from '../snapshotter/image-read.js';
import type { Snapshotter } from '../snapshotter/snapshots.js';
import type { Store } from '../snapshotter/store.js';
import { unpackImage } from '../snapshotter/unpack.js';
import { checkLimits } from './cgroups.js';
import { containerArgs, mergeEnv, type CommandOverrides } from './command-line.js';
import { ContainerStore, type ContainerConfig, type ContainerRecord, type ContainerRuntime } from './containers.js';
import { validateSpec, type ContainerLimits, type ContainerMount, type ContainerSpec } from './spec.js';
import { asDiskFull } from '../snapshotter/disk-full.js';
import type { Platform } from '../oci/image-spec.js';
import { assertCanRun } from './binfmt.js';

export interface CreateOptions {
  image: string;
  /** `--platform`: the image (an index's entry) for it; else the host's, or a single-platform image's own. */
  platform?: Platform;
  name?: string;
  command: CommandOverrides;
  /** `--env-file` then `-e` entries, applied over the image's Env. */
  env: string[];
  /** `-w`; the image's WORKDIR, else `/`, when unset. */
  cwd?: string;
  /** `-u`; the image's USER when unset. */
  user?: string;
  hostname?: string;
  network: 'host' | 'none';
  mounts: ContainerMount[];
  limits: ContainerLimits;
  tty: boolean;
  stdin: boolean;
  /** `--init`: a minimal init as PID 1 runs the command. */
  init: boolean;
  /** `--security-opt no-new-privileges`; off when unset. */
  noNewPrivileges?: boolean;
  /** `--security-opt seccomp=unconfined`; Docker's default filter when unset. */
  seccomp?: 'default' | 'unconfined';
  runtime: ContainerRuntime;
  autoRemove: boolean;
}

/** The directory an overlay root is mounted on inside the container's namespace. */
export function rootfsDir(containers: ContainerStore, id: string): string {
  return path.join(containers.containerDir(id), 'rootfs');
}

export async function createContainer(store: Store, snapshotter: Snapshotter, opts: CreateOptions): Promise<ContainerRecord> {
  const image = await resolveImage(store, opts.image, opts.platform);
  // A foreign image runs through QEMU; without a handler say so before anything is made.
  const { os, architecture, variant } = image.config;
  if (os && architecture) await assertCanRun([{ os, architecture, ...(variant ? { variant } : {}) }]);
  const ic = image.config.config ?? {};
  const user = opts.user ?? (ic.User || undefined);
  const spec: ContainerSpec = {
    // Replaced by the real path once the id is known; here it only has to pass validation.
    rootfs: '/',
    args: containerArgs(ic, opts.command, opts.image),
    env: mergeEnv(ic.Env ?? [], opts.env),
    cwd: opts.cwd ?? (ic.WorkingDir || '/'),
    ...(user !== undefined ? { user } : {}),
    ...(opts.hostname !== undefined ? { hostname: opts.hostname } : {}),
    network: opts.network,
    mounts: opts.mounts,
    limits: opts.limits,
    tty: opts.tty,
    stdin: opts.stdin,
    ...(opts.init ? { init: true } : {}),
    ...(opts.noNewPrivileges ? { noNewPrivileges: true } : {}),
    ...(opts.seccomp ? { seccomp: opts.seccomp } : {}),
    etcFiles: 'run',
  };
  // Every mistake in the flags is reported before anything is recorded.
  validateSpec(spec);
  checkLimits(opts.limits);

  const containers = new ContainerStore(store.root);
  const input: Omit<ContainerConfig, 'id' | 'name' | 'created' | 'snapshot' | 'lease'> = {
    image: opts.image,
    manifestDigest: image.manifestDigest,
    configDigest: image.configDigest,
    spec,
    runtime: opts.runtime,
    autoRemove: opts.autoRemove,
  };
  const rec = await containers.create(input, opts.name).catch((err: unknown) => {
    throw asDiskFull(err, store.root, 'creating the container');
  });
  const { config } = rec;
  config.spec.rootfs = rootfsDir(containers, config.id);
  try {
    // The lease comes first: a `kiln prune` running meanwhile must not take the image's layers.
    await store.leases.create({ id: config.lease });
    await store.leases.add(config.lease, { kind: 'blob', key: image.manifestDigest });
    await store.leases.add(config.lease, { kind: 'snapshot', key: config.snapshot });
    const top = await unpackImage(store, snapshotter, image);
    await snapshotter.prepare(config.snapshot, top ?? undefined);
    await mkdir(config.spec.rootfs, { mode: 0o755 });
    await containers.writeConfig(config);
  } catch (err) {
    await destroyContainer(store, snapshotter, config);
    throw asDiskFull(err, store.root, 'creating the container');
  }
  return rec;
}

/** Removes what createContainer made; parts already gone are skipped. */
export async function destroyContainer(store: Store, snapshotter: Snapshotter, config: ContainerConfig): Promise<void> {
  if (await snapshotter.stat(config.snapshot)) await snapshotter.remove(config.snapshot);
  await store.leases.delete(config.lease);
  await new ContainerStore(store.root).remove(config.id);
}
