// `kiln diff A B`: the files image B adds, changes and deletes relative to image A (docker diff's lines).
import { parseArgs } from 'node:util';
import type { Command } from '../command.js';
import { UsageError } from '../errors.js';
import { diffImages, formatChanges, parsePlatform } from '../../api/index.js';
import { openStore, rootUsage, storeFlagOptions } from '../store-flags.js';

const usage = `Usage: kiln diff [OPTIONS] IMAGE_A IMAGE_B

List what IMAGE_B changes relative to IMAGE_A, one line per path:
  A  added    C  changed    D  deleted

Options:
      --platform P   the platform to compare in multi-platform images (default: this machine's)
${rootUsage}`;

export const diffCommand: Command = {
  usage,
  async run(argv, io) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { platform: { type: 'string' }, ...storeFlagOptions },
    });
    if (positionals.length !== 2) throw new UsageError(`diff compares two images, got ${positionals.length}`, usage);
    const store = await openStore(values, io);
    const platform = values.platform !== undefined ? parsePlatform(values.platform) : undefined;
    const changes = await diffImages(store, positionals[0]!, positionals[1]!, platform);
    io.stdout.write(formatChanges(changes));
    return 0;
  },
};
