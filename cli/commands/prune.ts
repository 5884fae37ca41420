// `kiln prune`: garbage-collects the store: the build cache's snapshots, and blobs and snapshots
// that no image or live lease (a running build, a container) needs.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Command, CliIO } from '../command.js';
import { UsageError } from '../errors.js';
import { openStore, rootUsage, storeFlagOptions } from '../store-flags.js';
import { collectGarbage } from '../../snapshotter/gc.js';
import { openSnapshotter } from '../../snapshotter/snapshots.js';
import { CacheIndex } from '../../solver/cache-index.js';

const usage = `Usage: kiln prune [OPTIONS]

Delete the build cache, and the blobs and snapshots that no image, container or
running build uses

Options:
${rootUsage}`;

async function run(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: storeFlagOptions, allowPositionals: true });
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`, usage);
  const store = await openStore(values, io);
  // A store that never held a snapshot has no snapshotter to open (and no overlay probe to pay for).
  const hasSnapshots = await stat(path.join(store.root, 'snapshots')).then(() => true, () => false);
  const snapshots = hasSnapshots ? await openSnapshotter(store.root) : undefined;
  const r = await collectGarbage(store, snapshots && { snapshots });
  const forgotten = snapshots ? await (await CacheIndex.open(store.root)).forgetMissing(snapshots) : 0;
  io.stdout.write(`Deleted ${r.blobs} blobs, ${r.snapshots} snapshots, ${forgotten} build cache records; freed ${(r.bytes / 1e6).toFixed(1)} MB\n`);
  return 0;
}

export const prune: Command = { usage, run };
