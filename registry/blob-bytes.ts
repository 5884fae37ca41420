// A small blob (an image config) read into memory from a registry, checked against its
// descriptor like any fetched blob; `kiln manifest create` reads configs this way, never layers.
import { createHash, type Hash } from 'node:crypto';
import type { Descriptor } from '../oci/image-spec.js';
import type { RegistryClient } from './client.js';
import { fetchBlob, type BlobSink } from './blob-fetch.js';
import { UnsupportedManifestError } from './errors.js';

/** Configs past this size are not read into memory (BuildKit's limit for a config is the same order). */
const MAX_BLOB_BYTES = 8 * 1024 * 1024;

export async function fetchBlobBytes(client: RegistryClient, repo: string, desc: Descriptor, display: string): Promise<Buffer> {
  if (desc.size > MAX_BLOB_BYTES) throw new UnsupportedManifestError(display, `blob ${desc.digest} is ${desc.size} bytes, more than kiln reads into memory (8 MiB)`);
  let chunks: Buffer[] = [];
  let hash: Hash = createHash('sha256');
  let bytes: Buffer | undefined;
  const sink: BlobSink = {
    has: async () => false,
    open: async () => ({
      write: async (chunk) => {
        chunks.push(chunk);
        hash.update(chunk);
      },
      finish: async () => `sha256:${hash.digest('hex')}`,
      reset: async () => {
        chunks = [];
        hash = createHash('sha256');
      },
      commit: async () => {
        bytes = Buffer.concat(chunks);
      },
      abort: async () => undefined,
    }),
  };
  await fetchBlob(client, repo, desc, sink, display);
  return bytes!;
}
