// `kiln tag SOURCE TARGET`: points another name at an image, as `docker tag` does.
import { parseArgs } from 'node:util';
import type { Command, CliIO } from '../command.js';
import { UsageError } from '../errors.js';
import { openStore, rootUsage, storeFlagOptions } from '../store-flags.js';
import { tagImage } from '../../api/index.js';

const usage = `Usage: kiln tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]

Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE

Options:
${rootUsage}`;

async function run(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: storeFlagOptions, allowPositionals: true });
  if (positionals.length !== 2) throw new UsageError(`expected SOURCE and TARGET, got ${positionals.length} arguments`, usage);
  const [source, target] = positionals as [string, string];
  await tagImage(await openStore(values, io), source, target);
  return 0;
}

export const tag: Command = { usage, run };
