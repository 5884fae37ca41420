// Build secrets from buildx's `--secret` specs (CSV, as buildx reads them): `id=ID,src=PATH` (type=file) or `id=ID,env=VAR`
// (type=env; without env= the variable is named like the secret). They reach RUN --mount=type=secret
// and never a layer, the cache or a log.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { OptionError } from './errors.js';
import { CsvSyntaxError, splitCsvRecord } from '../frontend/csv.js';

export async function readSecrets(specs: readonly string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Map<string, Buffer>> {
  const env = opts.env ?? process.env;
  const secrets = new Map<string, Buffer>();
  for (const spec of specs) {
    const bad = (what: string): OptionError => new OptionError('secret', spec, what);
    const fields = new Map<string, string>();
    let parts: string[];
    try {
      parts = splitCsvRecord(spec);
    } catch (err) {
      if (!(err instanceof CsvSyntaxError)) throw err;
      throw bad(`${err.reason}; quote a field holding commas whole, e.g. "src=a,b"`);
    }
    for (const part of parts) {
      const eq = part.indexOf('=');
      if (eq <= 0) throw bad(`'${part}' is not KEY=VALUE; use id=ID,src=PATH or id=ID,env=VAR`);
      fields.set(part.slice(0, eq).trim(), part.slice(eq + 1));
    }
    const id = fields.get('id');
    if (!id) throw bad('no id; use id=ID,src=PATH or id=ID,env=VAR');
    const src = fields.get('src') ?? fields.get('source');
    const type = fields.get('type') ?? (src !== undefined ? 'file' : 'env');
    if (type === 'file') {
      if (src === undefined) throw bad('type=file needs src=PATH');
      try {
        secrets.set(id, await readFile(path.resolve(opts.cwd ?? process.cwd(), src)));
      } catch (err) {
        throw bad(`cannot read ${src} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
      }
    } else if (type === 'env') {
      const name = fields.get('env') ?? id;
      const value = env[name];
      if (value === undefined) throw bad(`environment variable ${name} is not set`);
      secrets.set(id, Buffer.from(value));
    } else {
      throw bad(`type=${type} is not known; use type=file or type=env`);
    }
  }
  return secrets;
}
