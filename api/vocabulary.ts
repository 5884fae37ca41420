// The OCI vocabulary callers need to say what they want: platforms, image references and names
// as Docker normalises them, build args, digests, and messages' quoting of long input.
export { formatPlatform, hostPlatform, parsePlatform, parsePlatforms } from '../oci/platform.js';
export { familiarName, formatReference, parseReference, InvalidReferenceError, type ImageRef } from '../oci/reference.js';
export type { Platform, ImageConfig, Descriptor, Manifest } from '../oci/image-spec.js';
export { isDigest, sha256Digest } from '../oci/digest.js';
export { normalizeName } from '../snapshotter/image-read.js';
export { parseBuildArgs } from '../frontend/buildargs.js';
export { shorten } from '../solver/shorten.js';
export type { SolveEvent } from '../solver/types.js';
