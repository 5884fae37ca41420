// `kiln rm`: remove containers (record, writable snapshot, lease); -f kills a running one first.
import { parseArgs } from 'node:util';
import type { Command, CliIO } from '../command.js';
import { UsageError } from '../errors.js';
import { openSnapshots, openStore, rootUsage, storeFlagOptions } from '../store-flags.js';
import { removeContainer } from '../../api/containers.js';

const usage = `Usage: kiln rm [OPTIONS] CONTAINER [CONTAINER...]

Remove one or more containers

Options:
  -f, --force   Kill a running container before removing it
${rootUsage}`;

async function run(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { force: { type: 'boolean', short: 'f' }, ...storeFlagOptions },
    allowPositionals: true,
  });
  if (positionals.length === 0) throw new UsageError('rm needs at least one container', usage);
  const store = await openStore(values, io);
  // The driver the store has, whatever $KILN_SNAPSHOTTER says: removing makes no snapshot.
  const snapshotter = await openSnapshots({ snapshotter: 'auto' }, io, store);
  for (const ref of positionals) {
    await removeContainer(store, snapshotter, ref, { force: values.force ?? false });
    io.stdout.write(ref + '\n');
  }
  return 0;
}

export const rm: Command = { usage, run };
