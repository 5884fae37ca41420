// Turns errors into what a user reads: one clear line for mistakes they can fix, a stack for bugs.
//
// Rooms throw their own typed errors; a KilnError that is `userFacing` is a user's mistake or an
// environment problem and is printed as its message alone. Anything else is a bug.

import type { CliIO } from './command.js';
import { UserError, isUserError } from '../errors/kiln-error.js';

export class UsageError extends UserError {
  readonly code = 'KILN_USAGE';
  constructor(message: string, readonly usage?: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A `kiln run`/`exec` flag value kiln cannot read (`-v`, `--tmpfs`, `-e`, `--env-file`, `--name`…). */
export class InvalidRunFlagError extends UserError {
  readonly code = 'KILN_RUN_INVALID_FLAG';
  constructor(readonly flag: string, readonly value: string, reason: string) {
    super(`${flag} ${JSON.stringify(value)}: ${reason}`);
    this.name = 'InvalidRunFlagError';
  }
}

/** Node's own parse errors for flags (util.parseArgs) are user mistakes too. */
function isArgError(err: unknown): err is Error & { code: string } {
  const code = (err as { code?: unknown })?.code;
  return err instanceof Error && typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_');
}

export function renderError(err: unknown): string {
  if (err instanceof UsageError) return `error: ${err.message}${err.usage ? `\n\n${err.usage}` : ''}\n`;
  if (isUserError(err)) return `${err.detail ?? ''}error: ${err.message}\n`;
  if (isArgError(err)) return `error: ${err.message}\n`;
  const stack = err instanceof Error ? err.stack ?? String(err) : String(err);
  return `internal error (a bug in kiln; please report it):\n${stack}\n`;
}

/**
 * For commands whose exit status is a container process's (`run`, `exec`): kiln's own failure
 * exits 125, as docker's does, so a script can tell it from the process's status.
 */
export function exiting125OnError(run: (argv: string[], io: CliIO) => Promise<number>): (argv: string[], io: CliIO) => Promise<number> {
  return async (argv, io) => {
    try {
      return await run(argv, io);
    } catch (err) {
      io.stderr.write(renderError(err));
      return 125;
    }
  };
}
