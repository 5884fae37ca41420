// The one error of the pattern room: a pattern Go's filepath.Match (or Docker's `**`) rejects.
export class PatternError extends Error {
  readonly code = 'KILN_PATTERN';
  readonly userFacing = true;
  constructor(readonly pattern: string, why: string) {
    super(`invalid pattern ${JSON.stringify(pattern)}: ${why}; fix or escape it with \\`);
    this.name = 'PatternError';
  }
}
