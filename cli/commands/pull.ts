// `kiln pull [--platform P] [-a] NAME[:TAG|@DIGEST]`: an image from its registry into the store,
// as `docker pull` does; one line per blob, then the digest and the name.
import { parseArgs } from 'node:util';
import type { Command } from '../command.js';
import { UsageError } from '../errors.js';
import { openStore, rootUsage, storeFlagOptions } from '../store-flags.js';
import { insecureOption, registryFlagOptions, registryUsage } from '../registry-flags.js';
import { parsePlatform, pull } from '../../api/index.js';
import { pullLines } from '../pull-lines.js';

const usage = `Usage: kiln pull [OPTIONS] NAME[:TAG|@DIGEST]

Download an image from a registry into the store

Options:
  -a, --all-platforms   pull every platform of a multi-platform image
      --platform P      the platform to pull (default: this machine's)
${registryUsage}
${rootUsage}`;

export const pullCommand: Command = {
  usage,
  async run(argv, io) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { 'all-platforms': { type: 'boolean', short: 'a' }, platform: { type: 'string' }, ...registryFlagOptions, ...storeFlagOptions },
    });
    if (positionals.length !== 1) throw new UsageError(`pull takes one image, got ${positionals.length}`, usage);
    if (values['all-platforms'] && values.platform !== undefined) throw new UsageError('--all-platforms and --platform disagree; give one of them', usage);
    const store = await openStore(values, io);
    const lines = pullLines(io.stdout);
    await pull(store, positionals[0]!, {
      env: io.env,
      ...insecureOption(values),
      ...(values.platform !== undefined ? { platform: parsePlatform(values.platform) } : {}),
      allPlatforms: values['all-platforms'] ?? false,
      onEvent: (e) => lines.event(e),
    }).finally(() => lines.close());
    return 0;
  },
};
