// `kiln import`: a root filesystem tar (plain or gzip, file or stdin) becomes a one-layer image,
// with `--change` instructions applied to its config, recorded under a name in the store.
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { native } from '../native/binding.js';
import { ingestPath } from '../snapshotter/ingest.js';
import type { ContainerConfig, ImageConfig, Platform } from '../oci/image-spec.js';
import type { Snapshotter } from '../snapshotter/snapshots.js';
import type { Store } from '../snapshotter/store.js';
import { LayerRefusedError, unpackImage } from '../snapshotter/unpack.js';
import { maybeGunzip, peekStream } from './archive-detect.js';
import { looksLikeTar } from '../native/archive-sniff.js';
import { ImportSourceError } from './errors.js';
import { configBlob, manifestBlob } from './manifest.js';
import { Digester } from '../oci/digest.js';

export interface ImportOptions {
  /** A file path, or '-' for `stdin`. */
  source: string;
  stdin?: NodeJS.ReadableStream;
  /** The fully-qualified name to record (`docker.io/library/rootfs:latest`). */
  name: string;
  /** The image's container config (`--change`s applied); default: empty. */
  config?: ContainerConfig;
  platform: Platform;
  /** The history comment; docker's default is "Imported from <source>". */
  message?: string;
  /** The config's and history's time (SOURCE_DATE_EPOCH makes imports reproducible). */
  created: Date;
  /** The layer is unpacked here before the image is named: what kiln would refuse later is refused now. */
  snapshotter: Snapshotter;
}

export interface ImportResult {
  manifestDigest: string;
  configDigest: string;
  layerDigest: string;
  diffId: string;
}

function openSource(opts: ImportOptions): Promise<NodeJS.ReadableStream> {
  if (opts.source === '-') {
    if (!opts.stdin) throw new ImportSourceError('-', 'no standard input to read the rootfs tar from');
    return Promise.resolve(opts.stdin);
  }
  const stream = createReadStream(opts.source);
  return new Promise((resolve, reject) => {
    stream.once('open', () => resolve(stream));
    stream.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'ENOENT' || err.code === 'EISDIR' || err.code === 'EACCES'
        ? new ImportSourceError(opts.source, `cannot read it (${err.code}); give a rootfs .tar or .tar.gz file, or - for stdin`)
        : err),
    );
  });
}

/** Writes the plain tar to `file`, returning the sha256 of its bytes: the layer's diffID. */
async function writePlainTar(opts: ImportOptions, file: string): Promise<string> {
  const source = opts.source === '-' ? 'stdin' : opts.source;
  const { stream: plain } = await maybeGunzip(
    await openSource(opts),
    (c) => new ImportSourceError(source, `${c}-compressed input is not supported; give a plain or gzip-compressed tar`),
  );
  const { head, stream } = await peekStream(plain, 512);
  if (!looksLikeTar(head)) throw new ImportSourceError(source, 'not a tar archive; give a rootfs .tar or .tar.gz file');
  const hash = new Digester();
  const out = createWriteStream(file, { flags: 'wx' });
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      hash.update(chunk);
      if (!out.write(chunk)) await once(out, 'drain');
    }
  } catch (err) {
    out.destroy();
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('Z_')) throw new ImportSourceError(source, `corrupt gzip data (${(err as Error).message})`);
    throw err;
  }
  out.end();
  await once(out, 'finish');
  return hash.digest();
}

export async function importRootfs(store: Store, opts: ImportOptions): Promise<ImportResult> {
  const containerConfig = opts.config ?? {};
  const plainPath = ingestPath(store.root);
  const layerPath = ingestPath(store.root);
  try {
    const diffId = await writePlainTar(opts, plainPath);
    const layer = await native.compressLayer({ input: plainPath, output: layerPath, compression: 'gzip' });
    // The engine hashes the tar as it compresses; a different answer means one side is broken.
    if (layer.diffId !== diffId) throw new Error(`compressLayer reported diffID ${layer.diffId} for a tar that hashes to ${diffId}`);
    await store.content.ingestFile(layerPath, { expected: layer.digest, move: true });

    const created = opts.created.toISOString().replace(/\.000Z$/, 'Z');
    const image: ImageConfig = {
      created,
      architecture: opts.platform.architecture,
      os: opts.platform.os,
      ...(opts.platform.variant ? { variant: opts.platform.variant } : {}),
      config: containerConfig,
      rootfs: { type: 'layers', diff_ids: [diffId] },
      history: [{ created, comment: opts.message || `Imported from ${opts.source}` }],
    };
    const config = configBlob(image);
    await store.content.write(config.data, config.descriptor.digest);
    const manifest = manifestBlob(config.descriptor, [{ mediaType: layer.mediaType, digest: layer.digest, size: layer.size }]);
    await store.content.write(manifest.data, manifest.descriptor.digest);
    const record = { name: opts.name, target: manifest.descriptor, created: new Date().toISOString() };
    try {
      await unpackImage(store, opts.snapshotter, {
        name: opts.name, record, manifestDigest: manifest.descriptor.digest, manifest: manifest.manifest, config: image, configDigest: config.descriptor.digest,
      });
    } catch (err) {
      if (!(err instanceof LayerRefusedError)) throw err;
      await store.content.delete(layer.digest);
      throw new ImportSourceError(opts.source === '-' ? 'stdin' : opts.source, `${err.entry}; kiln refuses this archive, since no image could be run or built on it`);
    }
    await store.images.put(record);
    return { manifestDigest: manifest.descriptor.digest, configDigest: config.descriptor.digest, layerDigest: layer.digest, diffId };
  } finally {
    await Promise.all([rm(plainPath, { force: true }), rm(layerPath, { force: true })]);
  }
}
