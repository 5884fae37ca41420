// `kiln push [-a] NAME[:TAG]`: an image of the store to its registry, as `docker push` does; one
// line per blob (pushed, exists, mounted; live with its bytes on a terminal), then the tag's digest.
import { parseArgs } from 'node:util';
import type { Command } from '../command.js';
import { createRegistryProgress } from '../progress-registry.js';
import { UsageError } from '../errors.js';
import { openStore, rootUsage, storeFlagOptions } from '../store-flags.js';
import { insecureOption, registryFlagOptions, registryUsage } from '../registry-flags.js';
import { push } from '../../api/index.js';

const usage = `Usage: kiln push [OPTIONS] NAME[:TAG]

Upload an image of the store to a registry

Options:
  -a, --all-tags        push every tag of the repository
${registryUsage}
${rootUsage}`;

export const pushCommand: Command = {
  usage,
  async run(argv, io) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { 'all-tags': { type: 'boolean', short: 'a' }, ...registryFlagOptions, ...storeFlagOptions },
    });
    if (positionals.length !== 1) throw new UsageError(`push takes one image, got ${positionals.length}`, usage);
    const store = await openStore(values, io);
    const progress = createRegistryProgress(io.stdout);
    const pushed = await push(store, positionals[0]!, {
      env: io.env,
      ...insecureOption(values),
      allTags: values['all-tags'] ?? false,
      onEvent: (e) => progress.event(e),
    }).finally(() => progress.close());
    for (const p of pushed) io.stdout.write(`${p.name}: digest: ${p.digest}\n`);
    return 0;
  },
};
