// `kiln logs`: a container's output, replayed from its log (stdout to stdout, stderr to stderr).
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Command, CliIO } from '../command.js';
import { UsageError } from '../errors.js';
import { rootUsage, storeFlagOptions } from '../store-flags.js';
import { containerLogs, openContainers } from '../../api/containers.js';

const usage = `Usage: kiln logs [OPTIONS] CONTAINER

Fetch the logs of a container

Options:
  -f, --follow     Follow log output until the container exits
  -n, --tail N     Number of lines to show from the end of the logs (default: all)
${rootUsage}`;

async function run(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { follow: { type: 'boolean', short: 'f' }, tail: { type: 'string', short: 'n' }, ...storeFlagOptions },
    allowPositionals: true,
  });
  if (positionals.length !== 1) throw new UsageError(`logs takes one container, got ${positionals.length}`, usage);
  let tail: number | undefined;
  if (values.tail !== undefined && values.tail !== 'all') {
    tail = Number(values.tail);
    if (!Number.isInteger(tail)) throw new UsageError(`--tail ${values.tail}: expected a number of lines or "all"`, usage);
  }
  const containers = openContainers(values.root ? path.resolve(io.cwd, values.root) : undefined, io.env);
  await containerLogs(containers, positionals[0]!, (e) => (e.stream === 'stderr' ? io.stderr : io.stdout).write(e.log), {
    ...(tail !== undefined ? { tail } : {}),
    follow: values.follow ?? false,
  });
  return 0;
}

export const logs: Command = { usage, run };
