// Errors of the LLB model: bytes that are not a valid op or definition, and ops that cannot be
// built as asked.
import { InternalError, UserError } from '../../errors/kiln-error.js';

/** Bytes given as LLB (a file, stdin, a cache record) do not decode as our schema says. */
export class LlbDecodeError extends UserError {
  readonly code = 'KILN_LLB_DECODE';
  constructor(message: string) {
    super(message);
    this.name = 'LlbDecodeError';
  }
}

/**
 * An op cannot be built or marshaled as asked (no args for an exec, a tmpfs mount with an
 * input, a value of the wrong type for a field). The frontend validates what users write
 * before it builds ops, so reaching this is a bug in the caller.
 */
export class LlbBuildError extends InternalError {
  readonly code = 'KILN_LLB_INVALID';
  constructor(message: string) {
    super(message);
    this.name = 'LlbBuildError';
  }
}
