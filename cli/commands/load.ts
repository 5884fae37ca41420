// `kiln load`: images from an OCI layout or `docker save` tarball into the store, as `docker load`.
import { createReadStream } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Command } from '../command.js';
import { UsageError } from '../errors.js';
import { familiarName, loadArchive, parseReference } from '../../api/index.js';
import { openStore, rootUsage, storeFlagOptions } from '../store-flags.js';

const usage = `Usage: kiln load [OPTIONS]

Load images from a tar archive (OCI image layout or docker save format, plain or gzip) read
from a file or stdin. Every blob is checked against its digest before anything is recorded.

Options:
  -i, --input FILE   read from FILE instead of stdin
  -q, --quiet        do not list the blobs as they are stored
${rootUsage}`;

function openInput(file: string, given: string): Promise<NodeJS.ReadableStream> {
  const stream = createReadStream(file);
  return new Promise((resolve, reject) => {
    stream.once('open', () => resolve(stream));
    stream.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'ENOENT' || err.code === 'EISDIR' || err.code === 'EACCES'
        ? new UsageError(`--input ${given}: cannot read it (${err.code})`)
        : err),
    );
  });
}

export const loadCommand: Command = {
  usage,
  async run(argv, io) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        input: { type: 'string', short: 'i' },
        quiet: { type: 'boolean', short: 'q', default: false },
        ...storeFlagOptions,
      },
    });
    if (positionals.length > 0) throw new UsageError(`load takes no arguments (got ${positionals.join(' ')}); use -i FILE`, usage);
    const file = values.input !== undefined && values.input !== '-' ? values.input : undefined;
    if (file === undefined && (io.stdin as { isTTY?: boolean }).isTTY) {
      throw new UsageError('requested load from stdin, but stdin is a terminal; use -i FILE or pipe an archive in', usage);
    }
    const store = await openStore(values, io);
    const input = file !== undefined ? await openInput(path.resolve(io.cwd, file), file) : io.stdin;
    const images = await loadArchive(store, input, file ?? 'stdin', {
      onBlob: values.quiet ? undefined : (digest, size) => io.stderr.write(`Loaded blob ${digest} (${size} bytes)\n`),
    });
    for (const img of images) {
      if (img.names.length === 0) io.stdout.write(`Loaded image ID: ${img.id}\n`);
      for (const name of img.names) io.stdout.write(`Loaded image: ${familiarName(parseReference(name))}\n`);
    }
    return 0;
  },
};
