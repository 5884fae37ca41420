// `kiln rmi`: removes image names, as `docker rmi` does. Only the names go; the blobs they
// held are freed by the next `kiln prune`.
import { parseArgs } from 'node:util';
import type { Command, CliIO } from '../command.js';
import { UsageError, renderError } from '../errors.js';
import { isUserError } from '../../errors/kiln-error.js';
import { openStore, rootUsage, storeFlagOptions } from '../store-flags.js';
import { removeImage, shortName } from '../../api/index.js';

const usage = `Usage: kiln rmi [OPTIONS] IMAGE [IMAGE...]

Remove one or more images

Options:
  -f, --force           Untag every name of an image given by ID
${rootUsage}`;

async function run(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { force: { type: 'boolean', short: 'f' }, ...storeFlagOptions },
    allowPositionals: true,
  });
  if (positionals.length === 0) throw new UsageError('expected at least one image to remove', usage);
  const store = await openStore(values, io);
  let failed = false;
  // Like docker: one bad name does not stop the others.
  for (const input of positionals) {
    try {
      for (const n of await removeImage(store, input, values.force === true)) io.stdout.write(`Untagged: ${shortName(n)}\n`);
    } catch (err) {
      if (!isUserError(err)) throw err;
      io.stderr.write(renderError(err));
      failed = true;
    }
  }
  return failed ? 1 : 0;
}

export const rmi: Command = { usage, run };
