// `kiln manifest create` / `inspect` (buildx imagetools): an index written from manifests already
// in a registry (each entry's platform read from its config blob, never a layer) and pushed under
// tags; and a manifest or index read back as the registry holds it.
import type { Descriptor, ImageConfig, Index, Manifest, Platform } from '../oci/image-spec.js';
import { MediaType } from '../oci/image-spec.js';
import { sha256Digest } from '../oci/digest.js';
import { formatPlatform, parsePlatform } from '../oci/platform.js';
import { formatReference, parseReference, InvalidReferenceError, type ImageRef } from '../oci/reference.js';
import { fetchBlobBytes } from '../registry/blob-bytes.js';
import { mountBlob } from '../registry/blob-mount.js';
import { fetchManifest, isIndexType, type FetchedManifest } from '../registry/manifest-resolve.js';
import { putManifest } from '../registry/push.js';
import type { Registries } from '../registry/registries.js';
import { UnsupportedManifestError } from '../registry/errors.js';
import { ManifestSourceError } from './errors.js';
import { openRegistries, type RegistryAccess } from './registry-session.js';

export type ManifestEvent =
  /** A platform manifest put into a tag's repository from the source's (its blobs mounted). */
  | { type: 'copy'; digest: string; from: string; to: string }
  | { type: 'push'; digest: string; to: string };

export interface ManifestCreateOptions extends RegistryAccess {
  /** `-t`: where the index goes (REPO:TAG); the first is the repository of bare `sha256:…` sources. */
  tags: readonly string[];
  /** REPO@sha256:…, REPO:TAG, or sha256:… in the first tag's repository; an index adds all its entries. */
  sources: readonly string[];
  /** `--append`: the first tag's current index (or manifest) comes first, then the sources. */
  append?: boolean;
  /** `--dry-run`: the index is made, not pushed. */
  dryRun?: boolean;
  onEvent?: (e: ManifestEvent) => void;
}

export interface CreatedIndex {
  digest: string;
  mediaType: string;
  /** The index as pushed (buildx's JSON: two-space indent, no final newline). */
  bytes: Buffer;
  index: Index;
  /** The full names it was pushed under. */
  pushed: string[];
}

/** One source resolved: where it lives and the descriptors it adds. */
interface Source {
  ref: ImageRef;
  top: FetchedManifest;
  entries: Descriptor[];
}

export async function createManifest(opts: ManifestCreateOptions): Promise<CreatedIndex> {
  const tags = opts.tags.map((t) => tagRef(t));
  if (tags.length === 0 && !opts.dryRun) throw new ManifestSourceError('-t', "no tag to push the index to; give -t REPO:TAG (or --dry-run)");
  const inputs = [...(opts.append && tags[0] ? [formatReference(tags[0])] : []), ...opts.sources];
  if (inputs.length === 0) throw new ManifestSourceError('SOURCE', 'no source manifests; name them as REPO@sha256:…');
  const { registries, done } = openRegistries(opts);
  try {
    const sources = await Promise.all(inputs.map((s) => resolveSource(registries, sourceRef(s, tags[0]))));
    const { index, from } = combine(sources);
    const bytes = Buffer.from(JSON.stringify(index, null, 2));
    const digest = sha256Digest(bytes);
    const created: CreatedIndex = { digest, mediaType: index.mediaType!, bytes, index, pushed: [] };
    if (opts.dryRun) return created;
    const emit = opts.onEvent ?? (() => undefined);
    for (const tag of tags) {
      const client = registries.client(tag.domain);
      for (const entry of index.manifests) {
        const src = from.get(entry.digest)!;
        if (src.ref.domain === tag.domain && src.ref.path === tag.path) continue;
        await copyManifest(registries, src.ref, tag, entry);
        emit({ type: 'copy', digest: entry.digest, from: formatReference({ ...src.ref, digest: entry.digest, tag: undefined }), to: `${tag.domain}/${tag.path}` });
      }
      const full = formatReference(tag);
      await putManifest(client, tag.path, { digest, mediaType: created.mediaType, bytes }, tag.tag!, full);
      emit({ type: 'push', digest, to: full });
      created.pushed.push(full);
    }
    return created;
  } finally {
    await done();
  }
}

export interface InspectedManifest {
  /** The full name asked for (`localhost:5000/app:latest`). */
  name: string;
  ref: ImageRef;
  mediaType: string;
  digest: string;
  size: number;
  /** The document's bytes exactly as the registry holds them. */
  raw: Buffer;
  /** Set when it is an index or a manifest list. */
  index?: Index;
}

export async function inspectManifest(input: string, opts: RegistryAccess = {}): Promise<InspectedManifest> {
  const ref = parseReference(input);
  const name = formatReference(ref);
  const { registries, done } = openRegistries(opts);
  try {
    const m = await fetchManifest(registries.client(ref.domain), ref.path, ref.digest ?? ref.tag!, name);
    return {
      name, ref, mediaType: m.mediaType, digest: m.digest, size: m.bytes.length, raw: m.bytes,
      ...(isIndexType(m.mediaType) ? { index: JSON.parse(m.bytes.toString('utf8')) as Index } : {}),
    };
  } finally {
    await done();
  }
}

function tagRef(input: string): ImageRef {
  const ref = parseReference(input);
  if (ref.digest !== undefined) throw new InvalidReferenceError(input, 'a tag names where the index goes; a digest cannot be pushed to');
  return ref;
}

/** A source as typed; a bare digest is in the first tag's repository (as buildx). */
function sourceRef(input: string, first: ImageRef | undefined): ImageRef {
  if (/^sha256:[a-f0-9]{64}$/.test(input)) {
    if (!first) throw new ManifestSourceError(input, 'a bare digest needs -t to say its repository; write it as REPO@' + input);
    return { domain: first.domain, path: first.path, digest: input };
  }
  return parseReference(input);
}

async function resolveSource(registries: Registries, ref: ImageRef): Promise<Source> {
  const display = formatReference(ref);
  const client = registries.client(ref.domain);
  const top = await fetchManifest(client, ref.path, ref.digest ?? ref.tag!, display);
  const doc = JSON.parse(top.bytes.toString('utf8')) as Partial<Manifest & Index>;
  if (isIndexType(top.mediaType)) return { ref, top, entries: doc.manifests ?? [] };
  // A manifest's platform is its config's: one small blob read, the layers are never touched.
  const config = JSON.parse((await fetchBlobBytes(client, ref.path, doc.config!, display)).toString('utf8')) as Partial<ImageConfig>;
  if (!config.os || !config.architecture) throw new UnsupportedManifestError(display, 'its config names no os and architecture, so no platform for the index entry');
  const platform: Platform = parsePlatform(formatPlatform({ os: config.os, architecture: config.architecture, ...(config.variant ? { variant: config.variant } : {}) }));
  return { ref, top, entries: [{ mediaType: top.mediaType, digest: top.digest, size: top.bytes.length, platform }] };
}

/**
 * The index of every source's entries in order, one per digest (a later one's platform and
 * annotations merged into the first), Docker's manifest list when every entry is Docker's, as buildx.
 */
function combine(sources: Source[]): { index: Index; from: Map<string, Source> } {
  const entries = new Map<string, Descriptor>();
  const from = new Map<string, Source>();
  for (const src of sources) {
    for (const d of src.entries) {
      const prior = entries.get(d.digest);
      if (prior) {
        entries.set(d.digest, { ...prior, ...(d.platform ? { platform: d.platform } : {}), ...(d.annotations || prior.annotations ? { annotations: { ...prior.annotations, ...d.annotations } } : {}) });
      } else entries.set(d.digest, d);
      from.set(d.digest, src);
    }
  }
  const manifests = [...entries.values()];
  const docker = manifests.every((m) => m.mediaType.startsWith('application/vnd.docker.'));
  return { index: { schemaVersion: 2, mediaType: docker ? MediaType.dockerManifestList : MediaType.ociIndex, manifests }, from };
}

/** A platform manifest put into the tag's repository: its blobs mounted there, then the manifest by digest. */
async function copyManifest(registries: Registries, from: ImageRef, to: ImageRef, entry: Descriptor): Promise<void> {
  const source = formatReference({ domain: from.domain, path: from.path, digest: entry.digest });
  if (from.domain !== to.domain) {
    throw new ManifestSourceError(source, `it is on another registry than ${formatReference(to)}; kiln copies between repositories of one registry only (by mounting blobs), so push it to ${to.domain} first`);
  }
  const client = registries.client(to.domain);
  const m = await fetchManifest(client, from.path, entry.digest, source);
  if (isIndexType(m.mediaType)) throw new UnsupportedManifestError(source, 'an index inside an index is not supported');
  const doc = JSON.parse(m.bytes.toString('utf8')) as Manifest;
  for (const blob of [doc.config, ...doc.layers]) await mountBlob(client, to.path, from.path, blob, formatReference(to));
  await putManifest(client, to.path, m, m.digest, `${to.domain}/${to.path}@${m.digest}`);
}
