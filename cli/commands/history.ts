// `kiln history`: the build steps recorded in an image's config, newest first, as `docker history`.
import { parseArgs } from 'node:util';
import type { Command, CliIO } from '../command.js';
import { UsageError } from '../errors.js';
import { openStore, rootUsage, storeFlagOptions } from '../store-flags.js';
import { renderTable } from '../table.js';
import { humanAge, humanSize } from '../human.js';
import { resolveImage } from '../../api/index.js';
import type { HistoryEntry } from '../../oci/image-spec.js';

const usage = `Usage: kiln history [OPTIONS] IMAGE

Show the history of an image

Options:
      --no-trunc        Don't truncate output
${rootUsage}`;

/** docker's Ellipsis: at most `max` characters, the last one "…" when cut. */
function ellipsis(s: string, max: number): string {
  const chars = [...s];
  return chars.length <= max ? s : chars.slice(0, max - 1).join('') + '…';
}

async function run(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { 'no-trunc': { type: 'boolean' }, ...storeFlagOptions },
    allowPositionals: true,
  });
  if (positionals.length !== 1) throw new UsageError(`expected exactly one image, got ${positionals.length}`, usage);
  const trunc = values['no-trunc'] !== true;
  const store = await openStore(values, io);
  const image = await resolveImage(store, positionals[0]!);
  const layers = image.manifest.layers;
  // Images without history (e.g. some imports) still have layers: one line each.
  const history: HistoryEntry[] = image.config.history ?? layers.map(() => ({}));

  let layer = 0;
  const rows = history.map((h) => {
    const size = h.empty_layer ? 0 : (layers[layer++]?.size ?? 0);
    const createdBy = (h.created_by ?? '').replaceAll('\t', ' ');
    return { h, size, createdBy: trunc ? ellipsis(createdBy, 45) : createdBy };
  });
  rows.reverse();
  const id = trunc ? image.configDigest.slice(7, 19) : image.configDigest;
  const cells = rows.map((r, i) => [i === 0 ? id : '<missing>', humanAge(r.h.created), r.createdBy, humanSize(r.size), r.h.comment ?? '']);
  io.stdout.write(renderTable(['IMAGE', 'CREATED', 'CREATED BY', 'SIZE', 'COMMENT'], cells));
  return 0;
}

export const history: Command = { usage, run };
