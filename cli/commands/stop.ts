// `kiln stop`: SIGTERM, then SIGKILL after a grace period, as `docker stop`.
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Command, CliIO } from '../command.js';
import { UsageError } from '../errors.js';
import { rootUsage, storeFlagOptions } from '../store-flags.js';
import { openContainers, stopContainer } from '../../api/containers.js';

const usage = `Usage: kiln stop [OPTIONS] CONTAINER [CONTAINER...]

Stop one or more running containers

Options:
  -t, --time SECONDS   Seconds to wait before killing the container (default: 10)
${rootUsage}`;

async function run(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { time: { type: 'string', short: 't' }, ...storeFlagOptions },
    allowPositionals: true,
  });
  if (positionals.length === 0) throw new UsageError('stop needs at least one container', usage);
  const seconds = values.time === undefined ? 10 : Number(values.time);
  if (!Number.isFinite(seconds) || seconds < 0) throw new UsageError(`--time ${values.time}: expected a number of seconds`, usage);
  const containers = openContainers(values.root ? path.resolve(io.cwd, values.root) : undefined, io.env);
  for (const ref of positionals) {
    await stopContainer(containers, ref, seconds * 1000);
    io.stdout.write(ref + '\n');
  }
  return 0;
}

export const stop: Command = { usage, run };
