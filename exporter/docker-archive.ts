// The `docker save` archive: manifest.json (Config, RepoTags, Layers) and its files. Writes the
// classic layout (`<id>/layer.tar`, `<config>.json`, `repositories`) for `kiln save --format docker`;
// reads that, the newer `blobs/sha256/` one and skopeo's (`<digest>.tar` behind symlinks).
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { MediaType, type Descriptor, type ImageConfig } from '../oci/image-spec.js';
import { readFileHead, sniffCompression } from '../native/archive-sniff.js';
import { digestInName, verifyBlobFiles, type StagedArchive, type StagedFile } from './archive-stage.js';
import { ArchiveDigestError, ArchiveFormatError, ArchiveMissingBlobError } from './errors.js';
import type { LoadPlan, PlannedImage } from './load-plan.js';
import { manifestBlob } from './manifest.js';
import { dockerManifestEntries, type DockerManifestEntry } from './oci-layout.js';
import type { BlobPath, SavedImage } from './saved-image.js';
import type { TarWriter } from './tar-pack.js';
import { Digester } from '../oci/digest.js';

const sha256hex = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * Legacy v1 layer IDs name the `<id>/` folders. Chained over the blob digests so that one
 * folder always holds one exact blob and its `parent` is the same in every image that has it.
 */
export function legacyLayerIds(layers: readonly Descriptor[]): string[] {
  const ids: string[] = [];
  for (const layer of layers) ids.push(sha256hex(`${ids.at(-1) ?? ''} ${layer.digest}`));
  return ids;
}

/** `busybox:latest` → ['busybox', 'latest'] (the tag follows the last ':' after the last '/'). */
function splitRepoTag(repoTag: string): [string, string] {
  const i = repoTag.lastIndexOf(':');
  return i > repoTag.lastIndexOf('/') ? [repoTag.slice(0, i), repoTag.slice(i + 1)] : [repoTag, 'latest'];
}

export async function writeDockerArchive(tar: TarWriter, images: readonly SavedImage[], blobPath: BlobPath): Promise<void> {
  const repositories: Record<string, Record<string, string>> = {};
  for (const img of images) {
    const config = img.manifest.config;
    const configName = `${config.digest.slice('sha256:'.length)}.json`;
    if (!tar.has(configName)) await tar.file(configName, blobPath(config.digest), config.size);
    const ids = legacyLayerIds(img.manifest.layers);
    for (const [i, layer] of img.manifest.layers.entries()) {
      const id = ids[i]!;
      if (tar.has(`${id}/layer.tar`)) continue;
      await tar.dir(id);
      await tar.buffer(`${id}/VERSION`, '1.0');
      await tar.buffer(`${id}/json`, JSON.stringify(i === 0 ? { id } : { id, parent: ids[i - 1] }));
      await tar.file(`${id}/layer.tar`, blobPath(layer.digest), layer.size);
    }
    if (img.repoTag && ids.length > 0) {
      const [repo, tag] = splitRepoTag(img.repoTag);
      (repositories[repo] ??= {})[tag] = ids.at(-1)!;
    }
  }
  const entries = dockerManifestEntries(
    images,
    (img) => `${img.manifest.config.digest.slice('sha256:'.length)}.json`,
    (img) => legacyLayerIds(img.manifest.layers).map((id) => `${id}/layer.tar`),
  );
  await tar.buffer('manifest.json', JSON.stringify(entries));
  if (Object.keys(repositories).length > 0) await tar.buffer('repositories', JSON.stringify(repositories));
}

async function gunzipDigest(file: string): Promise<string> {
  const hash = new Digester();
  for await (const chunk of createReadStream(file).pipe(createGunzip())) hash.update(chunk as Buffer);
  return hash.digest();
}

/**
 * Reads an unpacked docker archive into an OCI image per manifest.json entry. Layers keep their
 * bytes: a plain tar's digest is its diffID, a gzip one is checked against its diffID after
 * decompressing. The manifest is made by kiln (manifest.ts), so a kiln save/load round trip
 * gives back the same manifest digest.
 */
export async function readDockerArchive(staged: StagedArchive): Promise<LoadPlan> {
  const source = staged.source;
  verifyBlobFiles(staged);
  const entries = await staged.readJSON<DockerManifestEntry[]>('manifest.json');
  if (!Array.isArray(entries)) throw new ArchiveFormatError(source, 'manifest.json is not a list of images');
  const blobs = new Map<string, StagedFile>();
  const generated = new Map<string, Buffer>();
  const images: PlannedImage[] = [];

  const fileFor = (name: unknown, referrer: string): StagedFile => {
    if (typeof name !== 'string') throw new ArchiveFormatError(source, `${referrer} has a missing or non-string path`);
    const file = staged.get(name);
    if (!file) throw new ArchiveMissingBlobError(source, name, referrer);
    const promised = digestInName(name);
    if (promised && promised !== file.digest) throw new ArchiveDigestError(source, promised, `its content hashes to ${file.digest}`);
    return file;
  };

  for (const [n, entry] of entries.entries()) {
    const where = `manifest.json entry ${n}`;
    const configFile = fileFor(entry.Config, `${where} Config`);
    const config = await staged.readJSON<ImageConfig>(entry.Config);
    const diffIds = config.rootfs?.diff_ids;
    if (!Array.isArray(diffIds)) throw new ArchiveFormatError(source, `config ${entry.Config} has no rootfs.diff_ids`);
    if (!Array.isArray(entry.Layers) || entry.Layers.length !== diffIds.length) {
      throw new ArchiveFormatError(
        source,
        `${where} lists ${entry.Layers?.length ?? 0} layers but its config has ${diffIds.length} diff_ids`,
      );
    }
    const layers: Descriptor[] = [];
    for (const [i, name] of entry.Layers.entries()) {
      const file = fileFor(name, `${where} Layers[${i}]`);
      const compression = sniffCompression(await readFileHead(file.path, 6));
      let diffId: string;
      let mediaType: string;
      if (compression === 'none') {
        diffId = file.digest;
        mediaType = MediaType.ociLayer;
      } else if (compression === 'gzip') {
        diffId = await gunzipDigest(file.path);
        mediaType = MediaType.ociLayerGzip;
      } else {
        throw new ArchiveFormatError(source, `layer ${name} is ${compression}-compressed; kiln loads plain or gzip layers only`);
      }
      if (diffId !== diffIds[i]) {
        throw new ArchiveDigestError(source, diffIds[i]!, `layer ${name} unpacks to ${diffId}`, 'layer');
      }
      blobs.set(file.digest, file);
      layers.push({ mediaType, digest: file.digest, size: file.size });
    }
    blobs.set(configFile.digest, configFile);
    const manifest = manifestBlob({ mediaType: MediaType.ociConfig, digest: configFile.digest, size: configFile.size }, layers);
    generated.set(manifest.descriptor.digest, manifest.data);
    images.push({ names: entry.RepoTags ?? [], target: manifest.descriptor, id: configFile.digest });
  }
  return { blobs, generated, images };
}
