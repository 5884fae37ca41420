// Errors of the library surface: an option a caller gave that kiln cannot honour. The CLI shows
// them as flag errors (the option's name is the flag's).
import { UserError } from '../errors/kiln-error.js';

export class OptionError extends UserError {
  readonly code = 'KILN_OPTION';
  constructor(readonly option: string, readonly value: string, what: string) {
    super(`--${option}=${value}: ${what}`);
    this.name = 'OptionError';
  }
}

/** `--pull` asked for a base image's tag at its registry, and the registry could not answer. */
export class BaseImagePullError extends UserError {
  readonly code = 'KILN_BASE_IMAGE_PULL';
  constructor(readonly ref: string, reason: string) {
    super(`--pull: base image "${ref}" could not be resolved at its registry (${reason}); drop --pull to build from the store's copy`);
    this.name = 'BaseImagePullError';
  }
}

/** An index of which the store has only some platforms (as a single-platform pull leaves it). */
export class PartialImageError extends UserError {
  readonly code = 'KILN_IMAGE_PARTIAL';
  constructor(readonly image: string, readonly missing: string) {
    super(`${image}: the store has only some platforms of this image (not ${missing}); pull it with 'kiln pull -a' first to push all of them`);
    this.name = 'PartialImageError';
  }
}

/** A `kiln build --output` value kiln cannot honour: unknown type or key, missing dest, a clash. */
export class OutputSpecError extends UserError {
  readonly code = 'KILN_OUTPUT_SPEC';
  constructor(readonly spec: string, detail: string) {
    super(`--output ${spec}: ${detail}`);
    this.name = 'OutputSpecError';
  }
}

/** What holds one platform (a docker archive, an LLB Definition), asked of a multi-platform build (buildx refuses it the same way). */
export class MultiPlatformError extends UserError {
  readonly code = 'KILN_MULTI_PLATFORM';
  constructor(readonly subject: string, readonly platforms: string[], detail: string) {
    super(`${subject}: this build makes ${platforms.length} platforms (${platforms.join(', ')}), and ${detail}`);
    this.name = 'MultiPlatformError';
  }
}

/** A `kiln manifest create` source or tag that cannot go into the index as given. */
export class ManifestSourceError extends UserError {
  readonly code = 'KILN_MANIFEST_SOURCE';
  constructor(readonly source: string, detail: string) {
    super(`${source}: ${detail}`);
    this.name = 'ManifestSourceError';
  }
}
