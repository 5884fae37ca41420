// The one error of the pattern room: a pattern Go's filepath.Match (or Docker's `**`) rejects.
import { UserError } from '../errors/kiln-error.js';

export class PatternError extends UserError {
  readonly code = 'KILN_PATTERN';
  constructor(readonly pattern: string, why: string) {
    super(`invalid pattern ${JSON.stringify(pattern)}: ${why}`, { hint: `fix or escape it with \\` });
    this.name = 'PatternError';
  }
}
