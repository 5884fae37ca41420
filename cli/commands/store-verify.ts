// `kiln store verify [--repair]`: the store's fsck. One line per problem (area, what, what is
// wrong, and with --repair what was done); exit 1 while anything is left wrong.
import { parseArgs } from 'node:util';
import type { Command, CliIO } from '../command.js';
import { UsageError } from '../errors.js';
import { openStore, rootUsage, storeFlagOptions } from '../store-flags.js';
import { verifyStore } from '../../api/index.js';

const usage = `Usage: kiln store verify [OPTIONS]

Check the whole store: every blob against its digest, every image's blobs, every
snapshot's record and directory, leases, the build cache and the leftovers of killed
processes. Run it while no build uses the store.

Options:
      --repair          Remove what nothing valid refers to and mark damaged images
                        (an image is never deleted)
${rootUsage}`;

async function run(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: { ...storeFlagOptions, repair: { type: 'boolean' } }, allowPositionals: true });
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`, usage);
  const repair = values.repair ?? false;
  const r = await verifyStore(await openStore(values, io), { repair });
  const { snapshotDirs, tempFiles, leases } = r.recovered;
  if (snapshotDirs + tempFiles + leases > 0) {
    io.stdout.write(`recovered what killed processes left: ${snapshotDirs} unfinished snapshot(s), ${tempFiles} temp file(s), ${leases} lease(s)\n`);
  }
  for (const p of r.problems) {
    const done = repair ? `: ${p.repair ? p.repair.what : 'left as it is'}` : '';
    io.stdout.write(`${p.area} ${p.subject}: ${p.problem}${done}\n`);
  }
  const left = repair ? r.problems.filter((p) => !p.repair).length : r.problems.length;
  if (r.problems.length === 0) io.stdout.write(`store is consistent (${r.blobs} blobs checked)\n`);
  else if (repair) io.stdout.write(`${r.problems.length} problem(s), ${r.repaired} repaired (${r.blobs} blobs checked)\n`);
  else io.stdout.write(`${r.problems.length} problem(s) (${r.blobs} blobs checked); kiln store verify --repair mends what it can\n`);
  return left === 0 ? 0 : 1;
}

export const storeVerify: Command = { usage, run };
