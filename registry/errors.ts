// Errors of the distribution client a user or a registry can cause: each has a stable `code` and
// prints as one line naming the registry or repository. None ever holds a credential or token.
import { UserError } from '../errors/kiln-error.js';

abstract class RegistryError extends UserError {}

/** The registry answered with a status kiln cannot go on from (after retries where they apply). */
export class RegistryHttpError extends RegistryError {
  readonly code = 'KILN_REGISTRY_HTTP';
  constructor(readonly host: string, readonly what: string, readonly status: number, detail: string) {
    super(`${host}: ${what} failed: HTTP ${status}${detail ? ` (${detail})` : ''}`);
    this.name = 'RegistryHttpError';
  }
}

/** The registry refused the credentials, or there were none and it wants some. */
export class RegistryUnauthorizedError extends RegistryError {
  readonly code = 'KILN_REGISTRY_UNAUTHORIZED';
  constructor(readonly host: string, what: string, hadCredentials: boolean) {
    super(
      `${host}: ${what}: ${hadCredentials ? 'the registry refused the credentials' : 'the registry requires authentication'}; ` +
        `run 'kiln login ${host}'${hadCredentials ? ' again' : ''} (or check the name: a missing repository looks the same to some registries)`,
    );
    this.name = 'RegistryUnauthorizedError';
  }
}

/** A manifest (tag or digest) the repository does not have. */
export class ManifestUnknownError extends RegistryError {
  readonly code = 'KILN_MANIFEST_UNKNOWN';
  constructor(readonly ref: string) {
    super(`${ref}: not found in the registry (no such repository, tag or digest); check the name and tag`);
    this.name = 'ManifestUnknownError';
  }
}

/** The registry cannot be reached at all (DNS, refused, timed out), after the retries. */
export class RegistryUnreachableError extends RegistryError {
  readonly code = 'KILN_REGISTRY_UNREACHABLE';
  constructor(readonly host: string, reason: string, /** The connection broke (rather than never being made). */ readonly dropped = false) {
    super(`cannot reach registry ${host}: ${reason}; check the name, the network, or whether it serves HTTPS`);
    this.name = 'RegistryUnreachableError';
  }
}

/** TLS verification failed: the certificate is not signed by a known CA, or not for this host. */
export class RegistryTlsError extends RegistryError {
  readonly code = 'KILN_REGISTRY_TLS';
  constructor(readonly host: string, reason: string, certsDir: string) {
    super(`${host}: TLS verification failed (${reason}); install the registry's CA as ${certsDir}/ca.crt, or use --insecure-registry ${host} for a plain-HTTP registry`);
    this.name = 'RegistryTlsError';
  }
}

/** A document the client does not speak: a schema1 manifest, or an unknown media type. */
export class UnsupportedManifestError extends RegistryError {
  readonly code = 'KILN_MANIFEST_UNSUPPORTED';
  constructor(readonly ref: string, reason: string) {
    super(`${ref}: ${reason}`);
    this.name = 'UnsupportedManifestError';
  }
}

/** An index with no entry for the platform asked for. */
export class RegistryPlatformNotFoundError extends RegistryError {
  readonly code = 'KILN_PLATFORM_NOT_FOUND';
  constructor(readonly ref: string, readonly wanted: string, readonly available: string[]) {
    super(`${ref}: no manifest for platform ${wanted} (it has: ${available.join(', ') || 'none'}); pass --platform with one of those`);
    this.name = 'RegistryPlatformNotFoundError';
  }
}

/** Downloaded bytes that are not what the descriptor names; nothing of them was stored. */
export class BlobMismatchError extends RegistryError {
  readonly code = 'KILN_REGISTRY_BLOB_MISMATCH';
  constructor(readonly ref: string, readonly digest: string, got: string) {
    super(`${ref}: blob ${digest} from the registry is corrupt (got ${got}); nothing of it was stored, pull again or check the registry`);
    this.name = 'BlobMismatchError';
  }
}

/** The registry stored something under another digest than the one kiln sent. */
export class PushDigestError extends RegistryError {
  readonly code = 'KILN_PUSH_DIGEST';
  constructor(readonly ref: string, readonly sent: string, readonly answered: string) {
    super(`${ref}: the registry recorded ${answered} for what kiln sent as ${sent}; the upload was altered on the way`);
    this.name = 'PushDigestError';
  }
}

/** docker-credential-<name> failed or is missing. */
export class CredentialHelperError extends RegistryError {
  readonly code = 'KILN_CREDENTIAL_HELPER';
  constructor(readonly helper: string, readonly host: string, reason: string) {
    super(`credential helper docker-credential-${helper} for ${host}: ${reason}; check that it is on PATH and works ('docker-credential-${helper} list')`);
    this.name = 'CredentialHelperError';
  }
}

/** ~/.docker/config.json that is not JSON kiln can read. */
export class DockerConfigError extends RegistryError {
  readonly code = 'KILN_DOCKER_CONFIG';
  constructor(readonly file: string, reason: string) {
    super(`${file}: ${reason}; fix or remove the file`);
    this.name = 'DockerConfigError';
  }
}

/** kiln's config file (registry mirrors, insecure registries) cannot be read as kiln reads it. */
export class KilnConfigError extends RegistryError {
  readonly code = 'KILN_CONFIG';
  /** `file` is the config file, or the environment variable the setting came from. */
  constructor(readonly file: string, reason: string) {
    super(`${file}: ${reason}; ${file.startsWith('KILN_') ? 'fix the variable' : 'fix the file (or point KILN_CONFIG at another)'}`);
    this.name = 'KilnConfigError';
  }
}

/** The registry would not mount a blob from another of its repositories (it offered an upload instead). */
export class BlobMountRefusedError extends RegistryError {
  readonly code = 'KILN_REGISTRY_MOUNT_REFUSED';
  constructor(readonly host: string, readonly from: string, readonly repo: string, readonly digest: string) {
    super(`${host}: the registry would not mount blob ${digest} from ${from} into ${repo}; push the images to ${repo} itself, or use sources in it`);
    this.name = 'BlobMountRefusedError';
  }
}
