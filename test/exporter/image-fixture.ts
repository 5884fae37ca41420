// Small real images for exporter tests: layers are tars made with tar-stream (gzip or plain),
// written with their config and manifest into a real store under a temp root.
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { configBlob, manifestBlob } from '../../exporter/manifest.js';
import { MediaType, type Descriptor, type ImageConfig } from '../../oci/image-spec.js';
import { Store } from '../../snapshotter/store.js';

export type FileSpec = { name: string; body?: string; type?: 'file' | 'directory' | 'symlink'; linkname?: string };

export const sha256 = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

export async function tarOf(files: readonly FileSpec[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    pack.on('data', (c: unknown) => void chunks.push(c as Buffer));
    pack.on('end', () => resolve());
    pack.on('error', reject);
  });
  for (const f of files) {
    const type = f.type ?? 'file';
    const header = { name: f.name, type, mode: type === 'directory' ? 0o755 : 0o644, mtime: new Date(0), ...(f.linkname ? { linkname: f.linkname } : {}) };
    await new Promise<void>((resolve, reject) =>
      type === 'file'
        ? pack.entry(header, f.body ?? '', (err) => (err ? reject(err) : resolve()))
        : pack.entry(header, (err) => (err ? reject(err) : resolve())),
    );
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

export interface FixtureImage {
  name: string;
  manifest: Descriptor;
  config: Descriptor;
  layers: Descriptor[];
  diffIds: string[];
}

/** Stores an image whose layers hold `layers` (each a file list), recorded under `name`. */
export async function storeImage(
  store: Store,
  name: string,
  layers: readonly (readonly FileSpec[])[],
  opts: { gzip?: boolean } = {},
): Promise<FixtureImage> {
  const tars: Buffer[] = [];
  for (const files of layers) tars.push(await tarOf(files));
  return storeImageFromTars(store, name, tars, opts);
}

/** Stores an image whose layers are the given plain tars (gzip-compressed unless told otherwise). */
export async function storeImageFromTars(
  store: Store,
  name: string,
  layers: readonly Buffer[],
  opts: { gzip?: boolean } = {},
): Promise<FixtureImage> {
  const gzip = opts.gzip ?? true;
  const descs: Descriptor[] = [];
  const diffIds: string[] = [];
  for (const plain of layers) {
    const blob = gzip ? gzipSync(plain) : plain;
    diffIds.push(sha256(plain));
    const info = await store.content.write(blob);
    descs.push({ mediaType: gzip ? MediaType.ociLayerGzip : MediaType.ociLayer, digest: info.digest, size: info.size });
  }
  const image: ImageConfig = {
    created: '2024-01-01T00:00:00Z',
    architecture: 'amd64',
    os: 'linux',
    config: { Env: ['PATH=/bin'], Cmd: ['/bin/sh'] },
    rootfs: { type: 'layers', diff_ids: diffIds },
    history: layers.map(() => ({ created: '2024-01-01T00:00:00Z', created_by: 'fixture' })),
  };
  const config = configBlob(image);
  await store.content.write(config.data);
  const manifest = manifestBlob(config.descriptor, descs);
  await store.content.write(manifest.data);
  await store.images.put({ name, target: manifest.descriptor, created: new Date().toISOString() });
  return { name, manifest: manifest.descriptor, config: config.descriptor, layers: descs, diffIds };
}

export async function withStore(fn: (store: Store, dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'kiln-exporter-'));
  try {
    await fn(await Store.open(path.join(dir, 'root')), dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Every regular file of a (small) tar archive, by name. */
export async function readTar(data: Buffer): Promise<Map<string, Buffer>> {
  const extract = tar.extract();
  const files = new Map<string, Buffer>();
  extract.end(data);
  for await (const entry of extract) {
    const chunks: Buffer[] = [];
    for await (const c of entry) chunks.push(c as Buffer);
    if (entry.header.type === 'file') files.set(entry.header.name, Buffer.concat(chunks));
  }
  return files;
}
