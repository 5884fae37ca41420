// `kiln ps`: lists containers as `docker ps` does.
import { parseArgs } from 'node:util';
import type { Command, CliIO } from '../command.js';
import { UsageError } from '../errors.js';
import { humanAge, humanDuration } from '../human.js';
import { rootUsage, storeFlagOptions } from '../store-flags.js';
import { renderTable } from '../table.js';
import { listContainers, openContainers, type ContainerRecord } from '../../api/containers.js';
import path from 'node:path';

const usage = `Usage: kiln ps [OPTIONS]

List containers (running ones unless -a)

Options:
  -a, --all     Show all containers
  -q, --quiet   Only show container IDs
${rootUsage}`;

/** Docker's COMMAND column: the argv joined, quoted, cut to 20 characters with an ellipsis. */
function command(rec: ContainerRecord): string {
  const text = rec.config.spec.args.join(' ');
  return `"${[...text].length > 20 ? [...text].slice(0, 19).join('') + '…' : text}"`;
}

function status(rec: ContainerRecord, now: number): string {
  const s = rec.state;
  if (s.status === 'running') return `Up ${humanDuration(now - Date.parse(s.started ?? rec.config.created))}`;
  if (s.status === 'exited') return `Exited (${s.exitCode ?? 255}) ${humanAge(s.finished ?? s.started, now)}`;
  return 'Created';
}

async function run(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { all: { type: 'boolean', short: 'a' }, quiet: { type: 'boolean', short: 'q' }, ...storeFlagOptions },
    allowPositionals: true,
  });
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`, usage);
  const shown = await listContainers(openContainers(values.root ? path.resolve(io.cwd, values.root) : undefined, io.env), { all: values.all ?? false });
  if (values.quiet) {
    io.stdout.write(shown.map((r) => r.config.id.slice(0, 12) + '\n').join(''));
    return 0;
  }
  const now = Date.now();
  const rows = shown.map((r) => [r.config.id.slice(0, 12), r.config.image, command(r), humanAge(r.config.created, now), status(r, now), r.config.name]);
  io.stdout.write(renderTable(['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'NAMES'], rows));
  return 0;
}

export const ps: Command = { usage, run };
