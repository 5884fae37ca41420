// Errors of the OCI vocabulary a user can cause: image references, platform specifiers and
// digests that do not parse. Each carries a stable `code` and is printed as one line.
import { UserError } from '../errors/kiln-error.js';

export class InvalidReferenceError extends UserError {
  readonly code = 'KILN_INVALID_REFERENCE';
  constructor(
    /** The reference as the user wrote it. */
    readonly ref: string,
    /** What is wrong with it. */
    readonly reason: string,
  ) {
    super(`invalid image reference ${JSON.stringify(ref)}: ${reason}`);
    this.name = 'InvalidReferenceError';
  }
}

export class InvalidPlatformError extends UserError {
  readonly code = 'KILN_INVALID_PLATFORM';
  constructor(
    /** The specifier as the user wrote it. */
    readonly spec: string,
    /** What is wrong with it. */
    readonly reason: string,
  ) {
    super(`invalid platform ${JSON.stringify(spec)}: ${reason}`, { hint: `use os/arch[/variant], e.g. linux/amd64 or linux/arm/v7` });
    this.name = 'InvalidPlatformError';
  }
}

/** A digest string that is not `sha256:` followed by 64 lowercase hex digits. */
export class InvalidDigestError extends UserError {
  readonly code = 'KILN_INVALID_DIGEST';
  constructor(readonly digest: string) {
    super(`invalid digest "${digest}": expected sha256: followed by 64 lowercase hex digits`);
    this.name = 'InvalidDigestError';
  }
}
