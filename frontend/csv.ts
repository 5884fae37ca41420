// One CSV record split as Go's encoding/csv splits it (BuildKit's `--mount` and buildx's
// `--output`, `--secret` and `--cache-*` values are read that way): fields split on commas, a field
// in double quotes may hold commas, `""` inside quotes is one quote, and a quote anywhere else is
// an error rather than a guess.
import { UserError } from '../errors/kiln-error.js';

/** The text is not one CSV record; callers name the flag or the Dockerfile line it came from. */
export class CsvSyntaxError extends UserError {
  readonly code = 'KILN_CSV';
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'CsvSyntaxError';
  }
}

export function splitCsvRecord(value: string): string[] {
  const fields: string[] = [];
  let pos = 0;
  for (;;) {
    let field = '';
    if (value[pos] === '"') {
      pos++;
      for (;;) {
        if (pos >= value.length) throw new CsvSyntaxError('a quoted field is not closed');
        if (value[pos] === '"') {
          if (value[pos + 1] === '"') {
            field += '"';
            pos += 2;
            continue;
          }
          pos++;
          break;
        }
        field += value[pos++];
      }
      if (pos < value.length && value[pos] !== ',') throw new CsvSyntaxError('extra text after a closing quote');
    } else {
      const end = value.indexOf(',', pos);
      field = value.slice(pos, end < 0 ? value.length : end);
      if (field.includes('"')) throw new CsvSyntaxError(`a quote inside an unquoted field (${field}): quote the whole field`);
      pos = end < 0 ? value.length : end;
    }
    fields.push(field);
    if (pos >= value.length) return fields;
    pos++; // the comma
  }
}
