// `kiln images`: lists the store's image records as `docker images` does.
import { parseArgs } from 'node:util';
import type { Command, CliIO } from '../command.js';
import { UsageError } from '../errors.js';
import { openStore, rootUsage, storeFlagOptions } from '../store-flags.js';
import { renderTable } from '../table.js';
import { humanAge, humanSize } from '../human.js';
import { listImages, type ImageSummary } from '../../api/index.js';

const usage = `Usage: kiln images [OPTIONS]

List images in the store

Options:
      --digests         Show digests
      --format string   'table' (default), or 'json' for one JSON object per image
  -q, --quiet           Only show image IDs
${rootUsage}`;

/** docker's CreatedAt: Go's time.Time String() in UTC. */
function goTime(iso: string | undefined): string {
  const t = iso === undefined ? NaN : Date.parse(iso);
  return Number.isNaN(t) ? 'N/A' : new Date(t).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' +0000 UTC');
}

async function run(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      digests: { type: 'boolean' },
      format: { type: 'string' },
      quiet: { type: 'boolean', short: 'q' },
      ...storeFlagOptions,
    },
    allowPositionals: true,
  });
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`, usage);
  if (values.format !== undefined && values.format !== 'table' && values.format !== 'json') {
    throw new UsageError(`--format must be 'table' or 'json', not "${values.format}"`, usage);
  }
  const store = await openStore(values, io);
  const rows = await listImages(store);

  const shortId = (id: string): string => id.slice('sha256:'.length, 'sha256:'.length + 12);
  const size = (r: ImageSummary): string => (r.size === undefined ? 'N/A' : humanSize(r.size));
  if (values.quiet) {
    io.stdout.write(rows.map((r) => shortId(r.id) + '\n').join(''));
  } else if (values.format === 'json') {
    for (const r of rows) {
      const obj = {
        CreatedAt: goTime(r.created),
        CreatedSince: humanAge(r.created),
        Digest: r.digest,
        ID: shortId(r.id),
        Repository: r.repository,
        Size: size(r),
        Tag: r.tag,
      };
      io.stdout.write(JSON.stringify(obj) + '\n');
    }
  } else {
    const header = ['REPOSITORY', 'TAG', ...(values.digests ? ['DIGEST'] : []), 'IMAGE ID', 'CREATED', 'SIZE'];
    const cells = rows.map((r) => [r.repository, r.tag, ...(values.digests ? [r.digest] : []), shortId(r.id), humanAge(r.created), size(r)]);
    io.stdout.write(renderTable(header, cells));
  }
  return 0;
}

export const images: Command = { usage, run };
