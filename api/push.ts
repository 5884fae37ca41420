// `push()`: an image of the store to the registry its name says, as `docker push`: every blob
// the registry lacks (mounted from another repository of it where the store has an image from
// there holding the blob), then its manifests, the index or manifest last under the tag.
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import type { Descriptor, Index, Manifest } from '../oci/image-spec.js';
import { MediaType } from '../oci/image-spec.js';
import { formatReference, parseReference, InvalidReferenceError, type ImageRef } from '../oci/reference.js';
import { isIndexType } from '../registry/manifest-resolve.js';
import type { RegistryClient } from '../registry/client.js';
import { pushImage, type PushBlob, type PushManifest } from '../registry/push.js';
import { ImageNotFoundError } from '../snapshotter/errors.js';
import { normalizeName } from '../snapshotter/image-read.js';
import type { ImageRecord } from '../snapshotter/images.js';
import type { Store } from '../snapshotter/store.js';
import { PartialImageError } from './errors.js';
import { openRegistries, type RegistryAccess, type RegistryEvent } from './registry-session.js';

export interface PushOptions extends RegistryAccess {
  /** Every tag of the repository (`kiln push -a`). */
  allTags?: boolean;
  onEvent?: (e: RegistryEvent) => void;
}

export interface PushedImage {
  name: string;
  digest: string;
}

/** Pushes `name` (NAME[:TAG]), or with allTags every tag of its repository. */
export async function push(store: Store, name: string, opts: PushOptions = {}): Promise<PushedImage[]> {
  const ref = parseReference(name);
  if (ref.digest !== undefined) throw new InvalidReferenceError(name, 'push takes NAME[:TAG]; a digest names content, not a place to push to');
  const repo = `${ref.domain}/${ref.path}`;
  const records = await store.images.list();
  let chosen: ImageRecord[];
  if (opts.allTags) {
    chosen = records.filter((r) => repositoryOf(r.name) === repo && !r.name.includes('@'));
    if (chosen.length === 0) throw new ImageNotFoundError(repo, store.root);
  } else {
    const rec = records.find((r) => r.name === normalizeName(name));
    if (!rec) throw new ImageNotFoundError(name, store.root);
    chosen = [rec];
  }
  const { registries, done } = openRegistries(opts);
  const lease = await store.leases.create({ owned: true });
  try {
    const client = registries.client(ref.domain);
    const mounts = await mountSources(store, records, ref.domain);
    const out: PushedImage[] = [];
    for (const rec of chosen) {
      const tag = parseReference(rec.name).tag!;
      out.push(await pushTarget(store, lease, { client, mounts, ref: { domain: ref.domain, path: ref.path, tag }, name: rec.name, target: rec.target }, opts));
    }
    return out;
  } finally {
    await store.leases.delete(lease).catch(() => undefined);
    await done();
  }
}

/**
 * Pushes the image `target` names (a manifest or an index in the store) to `repository`
 * (REGISTRY/REPO, no tag) without a tag, as BuildKit's push-by-digest: the registry holds it by
 * digest alone, for `kiln manifest create` to gather into an index later.
 */
export async function pushByDigest(store: Store, target: Descriptor, repository: string, opts: PushOptions = {}): Promise<PushedImage> {
  const ref = parseReference(repository);
  const { registries, done } = openRegistries(opts);
  const lease = await store.leases.create({ owned: true });
  try {
    const client = registries.client(ref.domain);
    const mounts = await mountSources(store, await store.images.list(), ref.domain);
    return await pushTarget(store, lease, { client, mounts, ref: { domain: ref.domain, path: ref.path, digest: target.digest }, name: repository, target }, opts);
  } finally {
    await store.leases.delete(lease).catch(() => undefined);
    await done();
  }
}

interface PushTarget {
  client: RegistryClient;
  mounts: Map<string, string[]>;
  /** Where it goes: with a tag, under it; else by digest alone. */
  ref: ImageRef;
  /** The store's name for it, for errors. */
  name: string;
  target: Descriptor;
}

async function pushTarget(store: Store, lease: string, t: PushTarget, opts: PushOptions): Promise<PushedImage> {
  const image = await collect(store, t.name, t.target, t.mounts, t.ref.path);
  // The lease is written only once a blob must be read for the registry: it holds the image
  // against a concurrent rmi and prune, and a push whose blobs all exist reads none of them.
  let pinned: Promise<void> | undefined;
  const pin = (): Promise<void> =>
    (pinned ??= (async () => {
      await store.leases.add(lease, { kind: 'blob', key: t.target.digest });
      // Held from here on; what a prune took before is missing now, not halfway through an upload.
      for (const b of image.blobs) if (!(await store.content.has(b.desc.digest))) throw new PartialImageError(t.name, b.desc.digest);
    })());
  const full = formatReference(t.ref);
  const emit = opts.onEvent ?? (() => undefined);
  const digest = await pushImage(t.client, t.ref.path, { ...image, ...(t.ref.tag !== undefined ? { tag: t.ref.tag } : {}) }, full, {
    onBlob: (d, status) => emit({ type: 'blob', ref: full, digest: d.digest, size: d.size, status, time: Date.now() }),
    beforeUpload: pin,
    onBytes: (d, done) => emit({ type: 'blob.bytes', ref: full, digest: d.digest, size: d.size, done, direction: 'push', time: Date.now() }),
  });
  emit({ type: 'pushed', ref: full, digest, time: Date.now() });
  return { name: full, digest };
}

function repositoryOf(name: string): string {
  const r = parseReference(name);
  return `${r.domain}/${r.path}`;
}

/** The manifests and blobs of a record: an index's platform manifests first, all present in the store. */
async function collect(store: Store, name: string, target: Descriptor, mounts: Map<string, string[]>, repo: string): Promise<{ blobs: PushBlob[]; manifests: PushManifest[] }> {
  const manifests: PushManifest[] = [];
  const blobs: PushBlob[] = [];
  const addManifest = async (desc: Descriptor): Promise<void> => {
    const bytes = await store.content.read(desc.digest);
    const doc = JSON.parse(bytes.toString('utf8')) as Partial<Manifest & Index>;
    if (isIndexType(desc.mediaType) || Array.isArray(doc.manifests)) {
      for (const child of doc.manifests ?? []) {
        if (!(await store.content.has(child.digest))) {
          throw new PartialImageError(name, child.digest);
        }
        await addManifest(child);
      }
    } else {
      for (const b of [doc.config!, ...(doc.layers ?? [])]) {
        blobs.push({ desc: b, read: (start, end) => readRange(store.content.blobPath(b.digest), start, end), mountFrom: (mounts.get(b.digest) ?? []).filter((r) => r !== repo) });
      }
    }
    manifests.push({ digest: desc.digest, mediaType: desc.mediaType || doc.mediaType || MediaType.ociManifest, bytes });
  };
  await addManifest(target);
  return { blobs, manifests };
}

function readRange(file: string, start: number, end: number): Readable {
  // Megabyte reads: fewer, larger socket writes than the 64 KiB default.
  return end > start ? createReadStream(file, { start, end: end - 1, highWaterMark: 1024 * 1024 }) : Readable.from([]);
}

/**
 * Blob → repositories on `domain` whose images in the store hold it: the candidates for a
 * cross-repository mount (an image pulled from there, or pushed there before).
 */
async function mountSources(store: Store, records: ImageRecord[], domain: string): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  const add = (digest: string, repo: string): void => {
    const list = out.get(digest) ?? [];
    if (!list.includes(repo)) list.push(repo);
    out.set(digest, list);
  };
  const visit = async (desc: Descriptor, repo: string): Promise<void> => {
    const bytes = await store.content.read(desc.digest).catch(() => undefined);
    if (!bytes) return;
    const doc = JSON.parse(bytes.toString('utf8')) as Partial<Manifest & Index>;
    for (const child of doc.manifests ?? []) await visit(child, repo);
    for (const b of [...(doc.config ? [doc.config] : []), ...(doc.layers ?? [])]) add(b.digest, repo);
  };
  for (const rec of records) {
    const r = parseReference(rec.name);
    if (r.domain === domain) await visit(rec.target, r.path);
  }
  return out;
}
