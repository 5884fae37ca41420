// `kiln rmi`: removes image names, as `docker rmi` does. Only the names go; the blobs they
// held are freed by the next `kiln prune`.
import { parseArgs } from 'node:util';
import type { Command, CliIO } from '../command.js';
import { UsageError, isUserFacing, renderError } from '../errors.js';
import { openStore, rootUsage, storeFlagOptions } from '../store-flags.js';
import { readRecord, resolveImage } from '../../snapshotter/image-read.js';
import { ImageConflictError } from '../../snapshotter/errors.js';
import type { Store } from '../../snapshotter/store.js';
import { familiarName, formatReference, parseReference, InvalidReferenceError } from '../../registry/reference.js';
import { hostPlatform } from '../../registry/platform.js';

const usage = `Usage: kiln rmi [OPTIONS] IMAGE [IMAGE...]

Remove one or more images

Options:
  -f, --force           Untag every name of an image given by ID
${rootUsage}`;

const shown = (name: string): string => familiarName(parseReference(name));

/** Removes what `input` names and returns the names removed. */
async function remove(store: Store, input: string, force: boolean): Promise<string[]> {
  let name: string | undefined;
  try {
    name = formatReference(parseReference(input));
  } catch (err) {
    // Not a name: perhaps an image ID, which resolveImage understands.
    if (!(err instanceof InvalidReferenceError)) throw err;
  }
  if (name !== undefined && (await store.images.delete(name))) return [name];

  // A digest or image ID stands for every name pointing at that image.
  const image = await resolveImage(store, input);
  const names: string[] = [];
  for (const rec of await store.images.list()) {
    if (rec.target.digest === image.record.target.digest) {
      names.push(rec.name);
      continue;
    }
    const id = await readRecord(store, rec, hostPlatform()).then((r) => r.configDigest, () => undefined);
    if (id === image.configDigest) names.push(rec.name);
  }
  if (names.length > 1 && !force) throw new ImageConflictError(input, names.map(shown));
  for (const n of names) await store.images.delete(n);
  return names;
}

async function run(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { force: { type: 'boolean', short: 'f' }, ...storeFlagOptions },
    allowPositionals: true,
  });
  if (positionals.length === 0) throw new UsageError('expected at least one image to remove', usage);
  const store = await openStore(values, io);
  let failed = false;
  // Like docker: one bad name does not stop the others.
  for (const input of positionals) {
    try {
      for (const n of await remove(store, input, values.force === true)) io.stdout.write(`Untagged: ${shown(n)}\n`);
    } catch (err) {
      if (!isUserFacing(err)) throw err;
      io.stderr.write(renderError(err));
      failed = true;
    }
  }
  return failed ? 1 : 0;
}

export const rmi: Command = { usage, run };
