// `kiln tag SOURCE TARGET`: points another name at an image, as `docker tag` does.
import { parseArgs } from 'node:util';
import type { Command, CliIO } from '../command.js';
import { UsageError } from '../errors.js';
import { openStore, rootUsage, storeFlagOptions } from '../store-flags.js';
import { resolveImage } from '../../snapshotter/image-read.js';
import { formatReference, parseReference, InvalidReferenceError } from '../../registry/reference.js';

const usage = `Usage: kiln tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]

Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE

Options:
${rootUsage}`;

async function run(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: storeFlagOptions, allowPositionals: true });
  if (positionals.length !== 2) throw new UsageError(`expected SOURCE and TARGET, got ${positionals.length} arguments`, usage);
  const [source, target] = positionals as [string, string];
  const ref = parseReference(target);
  if (ref.digest !== undefined) throw new InvalidReferenceError(target, 'a tag cannot include a digest; use NAME[:TAG]');
  const store = await openStore(values, io);
  const image = await resolveImage(store, source);
  await store.images.put({ name: formatReference(ref), target: image.record.target, created: new Date().toISOString() });
  return 0;
}

export const tag: Command = { usage, run };
