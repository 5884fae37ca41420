// `kiln commit`: a container's changes (its writable snapshot, diffed by the layer engine) as a new
// image: the container's image's layers plus that one, with the image's config.
import { parseArgs } from 'node:util';
import type { Command, CliIO } from '../command.js';
import { UsageError } from '../errors.js';
import { openSnapshots, openStore, rootUsage, storeFlagOptions } from '../store-flags.js';
import { commitContainer } from '../../api/containers.js';

const usage = `Usage: kiln commit [OPTIONS] CONTAINER REPOSITORY[:TAG]

Create a new image from a container's changes

Options:
  -m, --message MSG   Commit message (the new history entry's comment)
${rootUsage}`;

async function run(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { message: { type: 'string', short: 'm' }, ...storeFlagOptions },
    allowPositionals: true,
  });
  if (positionals.length !== 2) throw new UsageError(`commit takes a container and an image name, got ${positionals.length} argument(s)`, usage);
  const [ref, imageRef] = positionals as [string, string];
  const store = await openStore(values, io);
  // The driver the store has: the container's snapshot was made by it.
  const snapshotter = await openSnapshots({ snapshotter: 'auto' }, io, store);
  const id = await commitContainer(store, snapshotter, ref, imageRef, { ...(values.message ? { message: values.message } : {}) });
  io.stdout.write(id + '\n');
  return 0;
}

export const commit: Command = { usage, run };
