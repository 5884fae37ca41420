// `pull()`: an image from its registry into the store, as `docker pull`: the tag resolved to a
// digest, the manifest for the platform (or every platform), its blobs fetched verified (those
// the store has are not fetched again), then the manifests, then the name's record.
import type { Descriptor, Index, Manifest, Platform } from '../oci/image-spec.js';
import { hostPlatform } from '../oci/platform.js';
import { formatReference, parseReference } from '../oci/reference.js';
import type { BlobSink } from '../registry/blob-fetch.js';
import type { RegistryClient } from '../registry/client.js';
import type { Registries } from '../registry/registries.js';
import { fetchBlobs } from '../registry/blob-fetch.js';
import { registrySettings } from '../registry/config-file.js';
import { fetchManifest, isIndexType, pickPlatform, type FetchedManifest } from '../registry/manifest-resolve.js';
import type { ContentStore } from '../snapshotter/content.js';
import type { Store } from '../snapshotter/store.js';
import { openRegistries, type RegistryAccess, type RegistryEvent } from './registry-session.js';
import { isUserError } from '../errors/kiln-error.js';

export interface PullOptions extends RegistryAccess {
  /** Default: this machine's. */
  platform?: Platform;
  /** Every platform of an index (`kiln pull -a`). */
  allPlatforms?: boolean;
  onEvent?: (e: RegistryEvent) => void;
}

export interface PullResult {
  /** The full name recorded (`docker.io/library/alpine:3.20`, or `repo@sha256:…` for a digest). */
  name: string;
  /** What the name points at: the index, or the manifest of a single-platform image. */
  target: Descriptor;
}

export async function pull(store: Store, input: string, opts: PullOptions = {}): Promise<PullResult> {
  const ref = parseReference(input);
  const name = formatReference(ref);
  const repo = ref.path;
  const emit = opts.onEvent ?? (() => undefined);
  const { registries, done } = openRegistries(opts);
  // Blobs are written before any record names them: the lease keeps prune off them meanwhile.
  const lease = await store.leases.create({ owned: true });
  try {
    const { client, top } = await firstAnswering(registries, registrySettings(opts.env ?? process.env).mirrors.get(ref.domain) ?? [], ref.domain, repo, ref.digest ?? ref.tag!, name);
    emit({ type: 'resolve', ref: name, digest: top.digest, time: Date.now() });
    const manifests: FetchedManifest[] = [];
    if (isIndexType(top.mediaType)) {
      const index = JSON.parse(top.bytes.toString('utf8')) as Index;
      const entries = opts.allPlatforms
        ? index.manifests.filter((m) => !isIndexType(m.mediaType))
        : [pickPlatform(index, opts.platform ?? hostPlatform(), name)];
      for (const e of entries) manifests.push(await fetchManifest(client, repo, e.digest, `${name}@${e.digest}`));
    } else {
      manifests.push(top);
    }
    const blobs = manifests.flatMap((m) => {
      const doc = JSON.parse(m.bytes.toString('utf8')) as Partial<Manifest>;
      return doc.config && doc.layers ? [doc.config, ...doc.layers] : [];
    });
    await store.leases.add(lease, ...[top, ...manifests, ...blobs].map((b) => ({ kind: 'blob' as const, key: b.digest })));
    await fetchBlobs(client, repo, blobs, storeSink(store.content), name, {
      onBlob: (d, outcome) => emit({ type: 'blob', ref: name, digest: d.digest, size: d.size, status: outcome, time: Date.now() }),
    });
    for (const m of [...manifests, top]) await store.content.write(m.bytes, m.digest);
    const target: Descriptor = { mediaType: top.mediaType, digest: top.digest, size: top.bytes.length };
    await store.images.put({ name, target, created: new Date().toISOString() });
    emit({ type: 'pulled', ref: name, digest: top.digest, time: Date.now() });
    return { name, target };
  } finally {
    await store.leases.delete(lease).catch(() => undefined);
    await done();
  }
}

/** The manifest from the first mirror that has it, else from the origin (whose error is the one thrown). */
async function firstAnswering(registries: Registries, mirrors: string[], origin: string, repo: string, reference: string, name: string): Promise<{ client: RegistryClient; top: FetchedManifest }> {
  for (const host of mirrors) {
    const client = registries.client(host);
    try {
      return { client, top: await fetchManifest(client, repo, reference, name) };
    } catch (err) {
      if (!isUserError(err)) throw err;
    }
  }
  const client = registries.client(origin);
  return { client, top: await fetchManifest(client, repo, reference, name) };
}

/** The content store as the registry's sink: blobs committed only once verified. */
export function storeSink(content: ContentStore): BlobSink {
  return { has: (d) => content.has(d), open: (desc) => content.writer({ digest: desc.digest, size: desc.size }) };
}
