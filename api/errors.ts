// Errors of the library surface: an option a caller gave that kiln cannot honour. The CLI shows
// them as flag errors (the option's name is the flag's).
export class OptionError extends Error {
  readonly code = 'KILN_OPTION';
  readonly userFacing = true;
  constructor(readonly option: string, readonly value: string, what: string) {
    super(`--${option}=${value}: ${what}`);
    this.name = 'OptionError';
  }
}
