// Manifests from a registry: a tag or digest fetched with the media types kiln reads (Docker
// schema2 and OCI manifests, lists and indexes), its digest checked, and an index resolved to the
// manifest of one platform as containerd's matcher picks it. Schema1 is refused.
import { sha256Digest } from '../oci/digest.js';
import { MediaType, type Descriptor, type Index, type Manifest, type Platform } from '../oci/image-spec.js';
import { formatPlatform, platformMatches } from '../oci/platform.js';
import { repoScope } from './auth.js';
import type { RegistryClient } from './client.js';
import { ManifestUnknownError, RegistryPlatformNotFoundError, UnsupportedManifestError } from './errors.js';
import { header } from './transport.js';

const SCHEMA1 = new Set(['application/vnd.docker.distribution.manifest.v1+json', 'application/vnd.docker.distribution.manifest.v1+prettyjws']);
const INDEXES = new Set<string>([MediaType.ociIndex, MediaType.dockerManifestList]);
const MANIFESTS = new Set<string>([MediaType.ociManifest, MediaType.dockerManifest]);

/** The Accept header: indexes first, so a tag's multi-platform form is what comes back. */
export const MANIFEST_ACCEPT = [MediaType.ociIndex, MediaType.dockerManifestList, MediaType.ociManifest, MediaType.dockerManifest].join(', ');

/** Manifests past this size are not read (the registry's own limit is 4 MiB). */
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

export interface FetchedManifest {
  digest: string;
  mediaType: string;
  bytes: Buffer;
}

export interface ResolvedManifest {
  /** What the tag or digest named: an index, or the manifest itself. */
  top: FetchedManifest;
  /** The platform's manifest (the same as `top` for a single-platform image). */
  manifest: FetchedManifest;
  parsed: Manifest;
}

export function isIndexType(mediaType: string): boolean {
  return INDEXES.has(mediaType);
}

/** One manifest by tag or digest; a digest is checked against the bytes, a tag's digest computed from them. */
export async function fetchManifest(client: RegistryClient, repo: string, reference: string, display: string): Promise<FetchedManifest> {
  const res = await client.request({
    method: 'GET',
    path: `/v2/${repo}/manifests/${reference}`,
    scopes: [repoScope(repo)],
    headers: { accept: MANIFEST_ACCEPT },
    ok: [200, 404],
    what: `fetching manifest ${display}`,
  });
  if (res.status === 404) {
    await res.body.dump();
    throw new ManifestUnknownError(display);
  }
  const bytes = Buffer.from(await res.body.arrayBuffer());
  if (bytes.length > MAX_MANIFEST_BYTES) throw new UnsupportedManifestError(display, `the manifest is ${bytes.length} bytes, more than kiln reads (4 MiB)`);
  const digest = sha256Digest(bytes);
  if (reference.startsWith('sha256:') && digest !== reference) {
    throw new UnsupportedManifestError(display, `the registry sent a manifest whose digest is ${digest}, not the ${reference} asked for`);
  }
  const mediaType = mediaTypeOf(bytes, header(res, 'content-type'), display);
  return { digest, mediaType, bytes };
}

/** The media type from the document itself where it says, else the Content-Type. */
function mediaTypeOf(bytes: Buffer, contentType: string | undefined, display: string): string {
  let doc: { schemaVersion?: number; mediaType?: string; manifests?: unknown; layers?: unknown };
  try {
    doc = JSON.parse(bytes.toString('utf8')) as typeof doc;
  } catch {
    throw new UnsupportedManifestError(display, 'the registry sent a manifest that is not JSON');
  }
  const type = doc.mediaType ?? contentType?.split(';')[0]?.trim() ?? '';
  if (doc.schemaVersion === 1 || SCHEMA1.has(type)) {
    throw new UnsupportedManifestError(display, 'is a Docker schema1 manifest, which kiln (like current Docker) does not pull; push it again with a current tool to convert it to schema2 or OCI');
  }
  if (INDEXES.has(type) || MANIFESTS.has(type)) return type;
  // OCI documents may leave mediaType out: their shape says which they are.
  if (Array.isArray(doc.manifests)) return MediaType.ociIndex;
  if (Array.isArray(doc.layers)) return MediaType.ociManifest;
  throw new UnsupportedManifestError(display, `has media type "${type}", which is not an image manifest or index`);
}

/** The entry of an index for `platform` (attestation entries, `unknown/unknown`, are never it). */
export function pickPlatform(index: Index, platform: Platform, display: string): Descriptor {
  const entries = index.manifests.filter((m) => m.platform?.os !== 'unknown' && MANIFESTS.has(m.mediaType));
  const chosen = entries.find((m) => m.platform !== undefined && platformMatches(platform, m.platform));
  if (chosen) return chosen;
  if (entries.length === 1 && entries[0]!.platform === undefined) return entries[0]!;
  throw new RegistryPlatformNotFoundError(display, formatPlatform(platform), entries.filter((m) => m.platform).map((m) => formatPlatform(m.platform!)));
}

/** A tag or digest resolved to the manifest for `platform`. */
export async function resolveManifest(client: RegistryClient, repo: string, reference: string, platform: Platform, display: string): Promise<ResolvedManifest> {
  const top = await fetchManifest(client, repo, reference, display);
  let manifest = top;
  if (isIndexType(top.mediaType)) {
    const entry = pickPlatform(JSON.parse(top.bytes.toString('utf8')) as Index, platform, display);
    manifest = await fetchManifest(client, repo, entry.digest, `${display}@${entry.digest}`);
    if (isIndexType(manifest.mediaType)) throw new UnsupportedManifestError(display, 'the index names another index for the platform; nested indexes are not supported');
  }
  return { top, manifest, parsed: JSON.parse(manifest.bytes.toString('utf8')) as Manifest };
}
