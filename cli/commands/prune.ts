// `kiln prune`: garbage-collects the store: the build cache's snapshots, and blobs and snapshots
// that no image or live lease (a running build, a container) needs.
import { parseArgs } from 'node:util';
import type { Command, CliIO } from '../command.js';
import { UsageError } from '../errors.js';
import { openStore, rootUsage, storeFlagOptions } from '../store-flags.js';
import { prune as pruneStore } from '../../api/index.js';

const usage = `Usage: kiln prune [OPTIONS]

Delete the build cache, and the blobs and snapshots that no image, container or
running build uses

Options:
${rootUsage}`;

async function run(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: storeFlagOptions, allowPositionals: true });
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`, usage);
  const r = await pruneStore(await openStore(values, io));
  io.stdout.write(`Deleted ${r.blobs} blobs, ${r.snapshots} snapshots, ${r.cacheRecords} build cache records; freed ${(r.bytes / 1e6).toFixed(1)} MB\n`);
  return 0;
}

export const prune: Command = { usage, run };
