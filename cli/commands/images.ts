// `kiln images`: lists the store's image records as `docker images` does.
import { parseArgs } from 'node:util';
import type { Command, CliIO } from '../command.js';
import { UsageError, isUserFacing } from '../errors.js';
import { openStore, rootUsage, storeFlagOptions } from '../store-flags.js';
import { renderTable } from '../table.js';
import { humanAge, humanSize } from '../human.js';
import { readRecord } from '../../snapshotter/image-read.js';
import type { ImageRecord } from '../../snapshotter/images.js';
import type { Store } from '../../snapshotter/store.js';
import { familiarName, parseReference } from '../../registry/reference.js';
import { hostPlatform } from '../../registry/platform.js';

const usage = `Usage: kiln images [OPTIONS]

List images in the store

Options:
      --digests         Show digests
      --format string   'table' (default), or 'json' for one JSON object per image
  -q, --quiet           Only show image IDs
${rootUsage}`;

interface Row {
  repository: string;
  tag: string;
  digest: string;
  /** Full `sha256:…` of the config, or of the target when it cannot be read. */
  id: string;
  created?: string;
  /** Sum of the layer sizes; undefined when the manifest cannot be read. */
  size?: number;
}

async function toRow(store: Store, rec: ImageRecord): Promise<Row> {
  const ref = parseReference(rec.name);
  const base = {
    repository: familiarName({ domain: ref.domain, path: ref.path }),
    tag: ref.tag ?? '<none>',
    digest: ref.digest ?? rec.target.digest,
  };
  try {
    const img = await readRecord(store, rec, hostPlatform());
    return {
      ...base,
      id: img.configDigest,
      ...(img.config.created !== undefined && { created: img.config.created }),
      size: img.manifest.layers.reduce((n, l) => n + l.size, 0),
    };
  } catch (err) {
    // An image missing blobs or the host's platform is still listed, so it can be found and removed.
    if (!isUserFacing(err)) throw err;
    return { ...base, id: rec.target.digest };
  }
}

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
  const rows: Row[] = [];
  for (const rec of await store.images.list()) rows.push(await toRow(store, rec));
  // Newest first, as docker lists them.
  rows.sort((a, b) => (b.created ?? '').localeCompare(a.created ?? '') || a.repository.localeCompare(b.repository) || a.tag.localeCompare(b.tag));

  const shortId = (id: string): string => id.slice('sha256:'.length, 'sha256:'.length + 12);
  const size = (r: Row): string => (r.size === undefined ? 'N/A' : humanSize(r.size));
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
