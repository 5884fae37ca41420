// Errors of the OCI vocabulary a user can cause: image references, platform specifiers and
// digests that do not parse. Each carries a stable `code` and is printed as one line.

export class InvalidReferenceError extends Error {
  readonly code = 'KILN_INVALID_REFERENCE';
  readonly userFacing = true;
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

export class InvalidPlatformError extends Error {
  readonly code = 'KILN_INVALID_PLATFORM';
  readonly userFacing = true;
  constructor(
    /** The specifier as the user wrote it. */
    readonly spec: string,
    /** What is wrong with it. */
    readonly reason: string,
  ) {
    super(`invalid platform ${JSON.stringify(spec)}: ${reason}; use os/arch[/variant], e.g. linux/amd64 or linux/arm/v7`);
    this.name = 'InvalidPlatformError';
  }
}

/** A digest string that is not `sha256:` followed by 64 lowercase hex digits. */
export class InvalidDigestError extends Error {
  readonly code = 'KILN_INVALID_DIGEST';
  readonly userFacing = true;
  constructor(readonly digest: string) {
    super(`invalid digest "${digest}": expected sha256: followed by 64 lowercase hex digits`);
    this.name = 'InvalidDigestError';
  }
}
