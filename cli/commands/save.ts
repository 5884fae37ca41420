// `kiln save`: images from the store into a tar archive, as `docker save` (OCI layout by default).
import { parseArgs } from 'node:util';
import type { Command } from '../command.js';
import { UsageError } from '../errors.js';
import { parsePlatform, saveImages } from '../../api/index.js';
import { openStore, rootUsage, storeFlagOptions } from '../store-flags.js';
import path from 'node:path';

const usage = `Usage: kiln save [OPTIONS] IMAGE [IMAGE...]

Save images to a tar archive (to stdout unless -o is given).

Options:
  -o, --output FILE       write to FILE
      --format oci|docker oci (default): an OCI image layout with docker's manifest.json beside
                          it, which docker load, skopeo and umoci all read; docker: the classic
                          docker save layout
      --platform P        only this platform of a multi-platform image (default: every platform
                          when the store has all of them, else this machine's)
${rootUsage}`;

export const saveCommand: Command = {
  usage,
  async run(argv, io) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        output: { type: 'string', short: 'o' },
        format: { type: 'string', default: 'oci' },
        platform: { type: 'string' },
        ...storeFlagOptions,
      },
    });
    const format = values.format;
    if (format !== 'oci' && format !== 'docker') throw new UsageError(`--format ${format}: use oci or docker`, usage);
    if (positionals.length === 0) throw new UsageError('save needs at least one image', usage);
    const output = values.output === undefined || values.output === '-' ? '-' : path.resolve(io.cwd, values.output);
    if (output === '-' && (io.stdout as { isTTY?: boolean }).isTTY) {
      throw new UsageError('refusing to write an archive to a terminal; use -o FILE or redirect stdout', usage);
    }
    const store = await openStore(values, io);
    await saveImages(store, positionals, output, format, io.stdout, values.platform !== undefined ? parsePlatform(values.platform) : undefined);
    return 0;
  },
};
