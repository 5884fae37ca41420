// `kiln kill`: send a signal (SIGKILL by default) to running containers.
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Command, CliIO } from '../command.js';
import { UsageError } from '../errors.js';
import { rootUsage, storeFlagOptions } from '../store-flags.js';
import { killContainer, openContainers, parseSignal } from '../../api/containers.js';

const usage = `Usage: kiln kill [OPTIONS] CONTAINER [CONTAINER...]

Kill one or more running containers

Options:
  -s, --signal SIG   Signal to send (default: KILL)
${rootUsage}`;

async function run(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { signal: { type: 'string', short: 's' }, ...storeFlagOptions },
    allowPositionals: true,
  });
  if (positionals.length === 0) throw new UsageError('kill needs at least one container', usage);
  const sig = parseSignal(values.signal ?? 'KILL');
  const containers = openContainers(values.root ? path.resolve(io.cwd, values.root) : undefined, io.env);
  for (const ref of positionals) {
    await killContainer(containers, ref, sig);
    io.stdout.write(ref + '\n');
  }
  return 0;
}

export const kill: Command = { usage, run };
