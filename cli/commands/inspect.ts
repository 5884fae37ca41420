// `kiln inspect`: an image's name, manifest digest, manifest and config as JSON.
import { parseArgs } from 'node:util';
import type { Command, CliIO } from '../command.js';
import { UsageError } from '../errors.js';
import { openStore, rootUsage, storeFlagOptions } from '../store-flags.js';
import { resolveImage } from '../../api/index.js';

const usage = `Usage: kiln inspect [OPTIONS] IMAGE

Show an image's manifest and config as JSON: { Name, Digest, Manifest, Config }

Options:
${rootUsage}`;

async function run(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: storeFlagOptions, allowPositionals: true });
  if (positionals.length !== 1) throw new UsageError(`expected exactly one image, got ${positionals.length}`, usage);
  const store = await openStore(values, io);
  const image = await resolveImage(store, positionals[0]!);
  const out = { Name: image.name, Digest: image.manifestDigest, Manifest: image.manifest, Config: image.config };
  io.stdout.write(JSON.stringify(out, null, 2) + '\n');
  return 0;
}

export const inspect: Command = { usage, run };
