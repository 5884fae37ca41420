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
