// `kiln commit`: a container's changes (its writable snapshot, diffed by the layer engine) as a new
// image: the container's image's layers plus that one, with the image's config.
import { rm } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { Command, CliIO } from '../command.js';
import { UsageError } from '../errors.js';
import { openStore, rootUsage, storeFlagOptions } from '../store-flags.js';
import { configBlob, manifestBlob } from '../../exporter/manifest.js';
import { native } from '../../native/binding.js';
import { normalizeName } from '../../snapshotter/image-read.js';
import { ingestPath } from '../../snapshotter/ingest.js';
import type { ImageConfig, Manifest } from '../../oci/image-spec.js';
import { openSnapshotter } from '../../snapshotter/open-snapshotter.js';
import { ContainerStore } from '../../runner/containers.js';

const usage = `Usage: kiln commit [OPTIONS] CONTAINER REPOSITORY[:TAG]

Create a new image from a container's changes

Options:
  -m, --message MSG   Commit message (the new history entry's comment)
${rootUsage}`;

async function run(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { message: { type: 'string', short: 'm' }, ...storeFlagOptions },
    allowPositionals: true,
  });
  if (positionals.length !== 2) throw new UsageError(`commit takes a container and an image name, got ${positionals.length} argument(s)`, usage);
  const [ref, imageRef] = positionals as [string, string];
  const name = normalizeName(imageRef);
  const store = await openStore(values, io);
  const snapshotter = await openSnapshotter(store.root);
  const { config: c } = await new ContainerStore(store.root).get(ref);
  const manifest = await store.content.readJSON<Manifest>(c.manifestDigest);
  const image = await store.content.readJSON<ImageConfig>(c.configDigest);

  const out = ingestPath(store.root);
  try {
    const upper = snapshotter.upperDir(c.snapshot);
    const parents = snapshotter.parentDirs(c.snapshot);
    const layer = await native.diffLayer({ upper, ...(parents.length > 0 ? { lowers: parents } : {}), driver: snapshotter.driver, output: out, compression: 'gzip' });
    await store.content.ingestFile(out, { expected: layer.digest, move: true });
    const created = new Date().toISOString();
    const next: ImageConfig = {
      ...image,
      created,
      rootfs: { type: 'layers', diff_ids: [...image.rootfs.diff_ids, layer.diffId] },
      history: [...(image.history ?? []), { created, created_by: c.spec.args.join(' '), ...(values.message ? { comment: values.message } : {}) }],
    };
    const cfg = configBlob(next);
    await store.content.write(cfg.data, cfg.descriptor.digest);
    const m = manifestBlob(cfg.descriptor, [...manifest.layers, { mediaType: layer.mediaType, digest: layer.digest, size: layer.size }]);
    await store.content.write(m.data, m.descriptor.digest);
    await store.images.put({ name, target: m.descriptor, created });
    io.stdout.write(cfg.descriptor.digest + '\n');
  } finally {
    await rm(out, { force: true });
  }
  return 0;
}

export const commit: Command = { usage, run };
