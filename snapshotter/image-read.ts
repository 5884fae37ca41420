// Reading images out of the store: a name, digest or image ID → its record, the manifest for one
// platform (picked from an index) and the config. Names are normalised as Docker does.
import type { Store } from './store.js';
import type { ImageRecord } from './images.js';
import type { Descriptor, ImageConfig, Index, Manifest, Platform } from '../oci/image-spec.js';
import { MediaType } from '../oci/image-spec.js';
import { isDigest, isDigestHex } from '../oci/digest.js';
import { formatReference, parseReference, InvalidReferenceError, type ImageRef } from '../oci/reference.js';
import { formatPlatform, hostPlatform, platformMatches } from '../oci/platform.js';
import { AmbiguousImageError, ImageNotFoundError, PlatformNotFoundError } from './errors.js';

export interface ResolvedImage {
  /** The record's fully-qualified name. */
  name: string;
  record: ImageRecord;
  manifestDigest: string;
  manifest: Manifest;
  config: ImageConfig;
  /** Also the image ID Docker shows (its first 12 hex digits). */
  configDigest: string;
}

const INDEX_TYPES = new Set<string>([MediaType.ociIndex, MediaType.dockerManifestList]);

/**
 * Resolves what a user typed: a name (`busybox`, `reg:5000/app:1`, `app@sha256:…`), a manifest or
 * index digest, or an image ID (the config digest, full or a unique prefix of its hex), in that order.
 * With a `platform` (a build's), the image must be for it; without one, an index gives the host's
 * image and a single-platform image is taken whatever its platform.
 */
export async function resolveImage(store: Store, nameOrDigest: string, platform?: Platform): Promise<ResolvedImage> {
  const want = platform ?? hostPlatform();
  const record = await findRecord(store, nameOrDigest, want);
  return readRecord(store, record, want, nameOrDigest, platform !== undefined);
}

/**
 * The manifest and config a record points at, for one platform: picked from an index, or, when
 * `exact`, checked against a single-platform image's config, so a requested platform is never
 * silently replaced by the one the image has.
 */
export async function readRecord(store: Store, record: ImageRecord, platform: Platform, ref = record.name, exact = false): Promise<ResolvedImage> {
  const { digest, manifest, fromIndex } = await pickManifest(store, record.target, platform, ref);
  const config = await store.content.readJSON<ImageConfig>(manifest.config.digest);
  if (exact && !fromIndex && config.os && config.architecture) {
    const has: Platform = { os: config.os, architecture: config.architecture, ...(config.variant ? { variant: config.variant } : {}) };
    if (!platformMatches(platform, has)) throw new PlatformNotFoundError(ref, formatPlatform(platform), [formatPlatform(has)]);
  }
  return { name: record.name, record, manifestDigest: digest, manifest, config, configDigest: manifest.config.digest };
}

/** The fully-qualified name Docker would store a reference under (`busybox` → docker.io/library/busybox:latest). */
export function normalizeName(ref: string): string {
  return formatReference(parseReference(ref));
}

async function findRecord(store: Store, input: string, platform: Platform): Promise<ImageRecord> {
  const records = await store.images.list();
  const digest = isDigest(input) ? input : isDigestHex(input) ? `sha256:${input}` : undefined;
  if (digest !== undefined) {
    const byTarget = records.find((r) => r.target.digest === digest);
    if (byTarget) return byTarget;
    const byId = await matchIds(store, records, platform, digest);
    if (byId.length > 0) return byId[0]!;
    throw new ImageNotFoundError(input, store.root);
  }

  let ref: ImageRef | undefined;
  try {
    ref = parseReference(input);
  } catch (err) {
    if (!(err instanceof InvalidReferenceError) || !/^[a-f0-9]+$/.test(input)) throw err;
  }
  if (ref !== undefined) {
    const exact = records.find((r) => r.name === formatReference(ref));
    if (exact) return exact;
    // `repo@sha256:…` also finds a tagged record of that repository pointing at the digest.
    if (ref.digest !== undefined) {
      const repo = `${ref.domain}/${ref.path}`;
      const match = records.find((r) => r.target.digest === ref.digest && repositoryOf(r.name) === repo);
      if (match) return match;
    }
  }
  // Docker's last resort: a short image ID, as `docker images` prints it.
  if (/^[a-f0-9]+$/.test(input)) {
    const matches = await matchIds(store, records, platform, `sha256:${input}`);
    const ids = [...new Set(matches.map((m) => m.id))];
    if (ids.length > 1) throw new AmbiguousImageError(input, ids.map((id) => id.slice(7, 19)));
    if (matches.length > 0) return matches[0]!;
  }
  throw new ImageNotFoundError(input, store.root);
}

/** The repository part of a stored name: everything before its tag or digest. */
function repositoryOf(name: string): string {
  const at = name.indexOf('@');
  const base = at >= 0 ? name.slice(0, at) : name;
  const colon = base.lastIndexOf(':');
  return colon > base.lastIndexOf('/') ? base.slice(0, colon) : base;
}

/** Records whose image ID (config digest) starts with `prefix`; records that cannot be read are skipped. */
async function matchIds(
  store: Store,
  records: ImageRecord[],
  platform: Platform,
  prefix: string,
): Promise<(ImageRecord & { id: string })[]> {
  const out: (ImageRecord & { id: string })[] = [];
  for (const r of records) {
    let id: string;
    try {
      id = (await readRecord(store, r, platform)).configDigest;
    } catch {
      continue;
    }
    if (id.startsWith(prefix)) out.push({ ...r, id });
  }
  return out;
}

async function pickManifest(
  store: Store,
  target: Descriptor,
  platform: Platform,
  ref: string,
  fromIndex = false,
): Promise<{ digest: string; manifest: Manifest; fromIndex: boolean }> {
  const doc = await store.content.readJSON<Partial<Manifest & Index>>(target.digest);
  if (!INDEX_TYPES.has(target.mediaType) && !Array.isArray(doc.manifests)) {
    return { digest: target.digest, manifest: doc as Manifest, fromIndex };
  }
  const entries = (doc.manifests ?? []).filter((m) => m.platform?.os !== 'unknown');
  const chosen =
    entries.find((m) => m.platform !== undefined && platformMatches(platform, m.platform)) ??
    // An index without platforms (as some OCI layouts are) with a single image is that image.
    (entries.length === 1 && entries[0]!.platform === undefined ? entries[0] : undefined);
  if (chosen === undefined) {
    const available = entries.filter((m) => m.platform !== undefined).map((m) => formatPlatform(m.platform!));
    throw new PlatformNotFoundError(ref, formatPlatform(platform), available);
  }
  // A platformless entry says nothing of its platform: its config is checked as a single image's is.
  return pickManifest(store, chosen, platform, ref, chosen.platform !== undefined);
}
