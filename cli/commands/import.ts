// `kiln import`: a root filesystem tarball becomes a one-layer image, as `docker import` does.
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Command } from '../command.js';
import { UsageError } from '../errors.js';
import { hostPlatform, importRootfs, normalizeName, parsePlatform } from '../../api/index.js';
import { openSnapshots, openStore, rootUsage, snapshotterFlagOptions, snapshotterUsage, storeFlagOptions } from '../store-flags.js';

const usage = `Usage: kiln import [OPTIONS] FILE|- REPOSITORY[:TAG]

Create an image from a root filesystem tarball (plain or gzip; - reads stdin) and print its
image ID.

Options:
  -c, --change INSTR   apply a Dockerfile instruction to the image config (repeatable):
                       ENV, CMD, ENTRYPOINT, WORKDIR, USER, EXPOSE, LABEL, VOLUME, STOPSIGNAL
  -m, --message MSG    history comment (default: "Imported from FILE")
      --platform P     platform recorded in the config (default: this machine's)
${rootUsage}
${snapshotterUsage}

SOURCE_DATE_EPOCH, when set, is the image's creation time, so the same tarball gives the same digest.`;

function creationTime(env: NodeJS.ProcessEnv): Date {
  const epoch = env.SOURCE_DATE_EPOCH;
  if (epoch === undefined || epoch === '') return new Date();
  if (!/^\d+$/.test(epoch)) throw new UsageError(`SOURCE_DATE_EPOCH=${epoch}: expected whole seconds since 1970`);
  return new Date(Number(epoch) * 1000);
}

export const importCommand: Command = {
  usage,
  async run(argv, io) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        change: { type: 'string', short: 'c', multiple: true },
        message: { type: 'string', short: 'm' },
        platform: { type: 'string' },
        ...storeFlagOptions,
        ...snapshotterFlagOptions,
      },
    });
    if (positionals.length !== 2) {
      throw new UsageError(`import takes a tarball (or -) and an image name, got ${positionals.length} argument(s)`, usage);
    }
    const [source, ref] = positionals as [string, string];
    const name = normalizeName(ref);
    const platform = values.platform !== undefined ? parsePlatform(values.platform) : hostPlatform();
    const store = await openStore(values, io);
    const result = await importRootfs(store, {
      source: source === '-' ? source : path.resolve(io.cwd, source),
      stdin: io.stdin,
      name,
      changes: values.change ?? [],
      platform,
      ...(values.message !== undefined ? { message: values.message } : {}),
      created: creationTime(io.env),
      snapshotter: await openSnapshots(values, io, store),
    });
    // The image ID, as docker import prints it and kiln images shows it.
    io.stdout.write(result.configDigest + '\n');
    return 0;
  },
};
