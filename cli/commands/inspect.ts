// `kiln inspect`: an image's name, manifest digest, manifest and config as JSON; for a
// multi-platform image also its index and the platforms it lists.
import { parseArgs } from 'node:util';
import type { Command, CliIO } from '../command.js';
import { UsageError } from '../errors.js';
import { openStore, rootUsage, storeFlagOptions } from '../store-flags.js';
import { imageIndex, parsePlatform, resolveImage } from '../../api/index.js';

const usage = `Usage: kiln inspect [OPTIONS] IMAGE

Show an image's manifest and config as JSON: { Name, Digest, Manifest, Config }; for a
multi-platform image (an index) also Index: { Digest, Manifests } listing every platform, and
the manifest and config are those of this machine's platform or --platform.

Options:
      --platform P   the platform of a multi-platform image to show (default: this machine's)
${rootUsage}`;

async function run(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: { ...storeFlagOptions, platform: { type: 'string' } }, allowPositionals: true });
  if (positionals.length !== 1) throw new UsageError(`expected exactly one image, got ${positionals.length}`, usage);
  const store = await openStore(values, io);
  const image = await resolveImage(store, positionals[0]!, values.platform !== undefined ? parsePlatform(values.platform) : undefined);
  const index = await imageIndex(store, image.record);
  const out = {
    Name: image.name,
    Digest: image.manifestDigest,
    Manifest: image.manifest,
    Config: image.config,
    ...(index ? { Index: { Digest: image.record.target.digest, Manifests: index.manifests } } : {}),
  };
  io.stdout.write(JSON.stringify(out, null, 2) + '\n');
  return 0;
}

export const inspect: Command = { usage, run };
