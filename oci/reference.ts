// Image references as Docker reads them: `alpine` is docker.io/library/alpine:latest, a first
// component with `.` or `:` (or `localhost`) is a registry host, and names must be lowercase.
import { InvalidReferenceError } from './errors.js';
import { isDigestHex } from './digest.js';

export { InvalidReferenceError } from './errors.js';

export interface ImageRef {
  /** Registry host, with port when given: `docker.io`, `localhost:5000`, `[::1]:5000`. */
  domain: string;
  /** Repository path inside the registry: `library/alpine`, `user/app`. */
  path: string;
  tag?: string;
  /** `algorithm:hex`, e.g. `sha256:…`. */
  digest?: string;
}

const DEFAULT_DOMAIN = 'docker.io';
const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
const OFFICIAL_PREFIX = 'library/';
const DEFAULT_TAG = 'latest';
const MAX_PATH_LENGTH = 255;

// The grammar of distribution/reference, written out piece by piece.
const ALNUM = '[a-z0-9]+';
const SEPARATOR = '(?:[._]|__|-+)';
const PATH_COMPONENT = `${ALNUM}(?:${SEPARATOR}${ALNUM})*`;
const PATH = `${PATH_COMPONENT}(?:/${PATH_COMPONENT})*`;
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const HOST = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])`;
const DOMAIN = `${HOST}(?::[0-9]+)?`;
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';

const REFERENCE_RE = new RegExp(`^((?:${DOMAIN}/)?${PATH})(?::(${TAG}))?(?:@(${DIGEST}))?$`);
const NAME_RE = new RegExp(`^(?:(${DOMAIN})/)?(${PATH})$`);
const TAG_RE = new RegExp(`^${TAG}$`);
const DIGEST_RE = new RegExp(`^${DIGEST}$`);

/** Hex lengths of the digest algorithms Docker accepts. */
const DIGEST_HEX_LENGTH: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };

/**
 * Parses and normalises a reference: Docker Hub names gain `docker.io` (and `library/` for
 * single names), `index.docker.io` becomes `docker.io`, and `latest` is added only when neither
 * a tag nor a digest is given. A reference with both keeps both.
 */
export function parseReference(ref: string): ImageRef {
  if (ref === '') throw new InvalidReferenceError(ref, 'it is empty; name an image such as alpine or registry.example.com/team/app:1.0');
  if (isDigestHex(ref)) {
    throw new InvalidReferenceError(ref, 'a 64-character hex string is an image ID, not a repository name');
  }
  const { domain, remainder } = splitDomain(ref);
  const colon = remainder.indexOf(':');
  const remote = colon >= 0 ? remainder.slice(0, colon) : remainder;
  if (remote.toLowerCase() !== remote) {
    throw new InvalidReferenceError(ref, 'repository name must be lowercase');
  }
  const full = `${domain}/${remainder}`;
  const m = REFERENCE_RE.exec(full);
  if (!m) throw new InvalidReferenceError(ref, diagnose(ref));
  const name = NAME_RE.exec(m[1]!)!;
  // A first component taken for a host (it has a '.' or ':') that is no valid host name would
  // otherwise read as a path with no registry at all (Docker leaves such a name without a domain).
  if (name[1] === undefined) throw new InvalidReferenceError(ref, `"${domain}" is not a valid registry host name (letters, digits, '-' and '.', with an optional :port)`);
  const out: ImageRef = { domain: name[1], path: name[2]! };
  if (out.path.length > MAX_PATH_LENGTH) {
    throw new InvalidReferenceError(ref, `repository name must not be more than ${MAX_PATH_LENGTH} characters`);
  }
  if (m[2] !== undefined) out.tag = m[2];
  if (m[3] !== undefined) {
    checkDigest(ref, m[3]);
    out.digest = m[3];
  }
  if (out.tag === undefined && out.digest === undefined) out.tag = DEFAULT_TAG;
  return out;
}

/** The fully qualified form: `docker.io/library/alpine:latest`. */
export function formatReference(ref: ImageRef): string {
  return `${ref.domain}/${ref.path}${suffix(ref)}`;
}

/** The short form Docker shows: `alpine:latest`, `user/app:1`, `localhost:5000/a:1`. */
export function familiarName(ref: ImageRef): string {
  let name = `${ref.domain}/${ref.path}`;
  if (ref.domain === DEFAULT_DOMAIN) {
    name = ref.path;
    // Only a single name under library/ is an official image; deeper paths keep the prefix.
    const rest = ref.path.startsWith(OFFICIAL_PREFIX) ? ref.path.slice(OFFICIAL_PREFIX.length) : undefined;
    if (rest !== undefined && !rest.includes('/')) name = rest;
  }
  return name + suffix(ref);
}

function suffix(ref: ImageRef): string {
  return `${ref.tag !== undefined ? `:${ref.tag}` : ''}${ref.digest !== undefined ? `@${ref.digest}` : ''}`;
}

/** The first component is a registry host only if it looks like one; otherwise Docker Hub. */
function splitDomain(ref: string): { domain: string; remainder: string } {
  const slash = ref.indexOf('/');
  // A single name is never a host, so `localhost:5000` alone is the image localhost, tag 5000.
  if (slash < 0) return { domain: DEFAULT_DOMAIN, remainder: OFFICIAL_PREFIX + ref };
  const first = ref.slice(0, slash);
  const rest = ref.slice(slash + 1);
  let domain: string;
  let remainder: string;
  if (first === LEGACY_DEFAULT_DOMAIN) {
    domain = DEFAULT_DOMAIN;
    remainder = rest;
  } else if (first === 'localhost' || /[.:]/.test(first) || first.toLowerCase() !== first) {
    // Repository components are lowercase, so an uppercase first component can only be a host.
    domain = first;
    remainder = rest;
  } else {
    domain = DEFAULT_DOMAIN;
    remainder = ref;
  }
  if (domain === DEFAULT_DOMAIN && !remainder.includes('/')) remainder = OFFICIAL_PREFIX + remainder;
  return { domain, remainder };
}

/** Says which part of a reference that failed the grammar is wrong. */
function diagnose(ref: string): string {
  const at = ref.indexOf('@');
  const digest = at >= 0 ? ref.slice(at + 1) : undefined;
  const beforeDigest = at >= 0 ? ref.slice(0, at) : ref;
  const lastSlash = beforeDigest.lastIndexOf('/');
  const colon = beforeDigest.indexOf(':', lastSlash + 1);
  const name = colon >= 0 ? beforeDigest.slice(0, colon) : beforeDigest;
  const tag = colon >= 0 ? beforeDigest.slice(colon + 1) : undefined;
  if (digest !== undefined && !DIGEST_RE.test(digest)) {
    return `digest "${digest}" is not algorithm:hex (e.g. sha256: and 64 hex characters)`;
  }
  if (tag !== undefined && !TAG_RE.test(tag)) {
    return `tag "${tag}" is not valid: up to 128 letters, digits, '_', '.' or '-', not starting with '.' or '-'`;
  }
  if (!NAME_RE.test(name) && NAME_RE.test(name.toLowerCase())) return 'repository name must be lowercase';
  return `repository name "${name}" is not valid: use lowercase letters and digits, separated by '/', '.', '_', '__' or '-'`;
}

function checkDigest(ref: string, digest: string): void {
  const [algorithm, hex] = digest.split(':') as [string, string];
  const length = DIGEST_HEX_LENGTH[algorithm];
  if (length === undefined) {
    throw new InvalidReferenceError(ref, `digest algorithm "${algorithm}" is not supported; use sha256, sha384 or sha512`);
  }
  if (hex.length !== length) {
    throw new InvalidReferenceError(ref, `${algorithm} digest must have ${length} hex characters, not ${hex.length}`);
  }
  if (!/^[a-f0-9]+$/.test(hex)) throw new InvalidReferenceError(ref, `${algorithm} digest must be lowercase hex`);
}
