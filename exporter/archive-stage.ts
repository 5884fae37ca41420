// Unpacks an image archive (a tar stream) into a scratch directory, hashing every file on the way,
// so a loader can check every digest and read metadata in any order before anything is recorded.
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import tar from 'tar-stream';
import { ArchiveDigestError, ArchiveFormatError } from './errors.js';
import { Digester } from '../oci/digest.js';
import { isUserError } from '../errors/kiln-error.js';

export interface StagedFile {
  /** Where the bytes are on disk now. */
  path: string;
  /** `sha256:<hex>` of the bytes. */
  digest: string;
  size: number;
}

export class StagedArchive {
  constructor(
    /** Names the archive in messages (a file path, or "stdin"). */
    readonly source: string,
    private readonly files: Map<string, StagedFile>,
    private readonly links: Map<string, string>,
  ) {}

  /** Every regular file's and link's name, normalised (no leading ./ or /). */
  names(): Set<string> {
    return new Set([...this.files.keys(), ...this.links.keys()]);
  }

  /** The file at `name`, following symlinks and hard links (skopeo's docker-archive uses both). */
  get(name: string): StagedFile | undefined {
    let key = normaliseName(name);
    for (let hops = 0; hops < 16; hops++) {
      const file = this.files.get(key);
      if (file) return file;
      const target = this.links.get(key);
      if (target === undefined) return undefined;
      key = target;
    }
    return undefined;
  }

  async readJSON<T>(name: string): Promise<T> {
    const file = this.get(name);
    if (!file) throw new ArchiveFormatError(this.source, `${name} is missing`);
    try {
      return JSON.parse(await readFile(file.path, 'utf8')) as T;
    } catch (err) {
      throw new ArchiveFormatError(this.source, `${name} is not valid JSON (${(err as Error).message})`);
    }
  }

  /** Removes the staged files that were not moved away (into the content store). */
  async cleanup(): Promise<void> {
    await Promise.all([...this.files.values()].map((f) => rm(f.path, { force: true })));
  }
}

export function normaliseName(name: string): string {
  const clean = path.posix.normalize('/' + name).slice(1);
  return clean.endsWith('/') ? clean.slice(0, -1) : clean;
}

/**
 * Extracts `src` (a plain tar stream) into fresh files named by `tempPath` (the store's ingest
 * paths, so loading can move them into place and a crash leaves only what prune removes).
 */
export async function stageArchive(src: NodeJS.ReadableStream, tempPath: () => string, source: string): Promise<StagedArchive> {
  const files = new Map<string, StagedFile>();
  const links = new Map<string, string>();
  const extract = tar.extract();
  (src as NodeJS.ReadableStream & { on(e: 'error', l: (e: Error) => void): unknown }).on('error', (err: Error) =>
    extract.destroy(err),
  );
  src.pipe(extract);
  const created: string[] = [];
  try {
    for await (const entry of extract) {
      const name = normaliseName(entry.header.name);
      const type = entry.header.type;
      if (type === 'file' || type === 'contiguous-file') {
        const previous = files.get(name);
        if (previous) await rm(previous.path, { force: true });
        const file = tempPath();
        created.push(file);
        const hash = new Digester();
        const out = createWriteStream(file);
        let size = 0;
        for await (const chunk of entry as AsyncIterable<Buffer>) {
          hash.update(chunk);
          size += chunk.length;
          if (!out.write(chunk)) await once(out, 'drain');
        }
        out.end();
        await once(out, 'finish');
        files.set(name, { path: file, digest: hash.digest(), size });
        links.delete(name);
      } else {
        if (type === 'symlink' && entry.header.linkname) {
          links.set(name, normaliseName(path.posix.join(path.posix.dirname(name), entry.header.linkname)));
        } else if (type === 'link' && entry.header.linkname) {
          links.set(name, normaliseName(entry.header.linkname));
        }
        entry.resume();
      }
    }
  } catch (err) {
    await Promise.all(created.map((f) => rm(f, { force: true })));
    if (isUserError(err)) throw err;
    // File system trouble (ENOSPC, EACCES) is not the archive's fault; tar and zlib errors are.
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && !code.startsWith('Z_')) throw err;
    throw new ArchiveFormatError(source, `not a readable tar archive (${(err as Error).message})`);
  }
  return new StagedArchive(source, files, links);
}

const blobName = /^blobs\/sha256\/([0-9a-f]{64})$/;

/** Checks every `blobs/sha256/<hex>` file against its name, so no corrupt blob gets in unnoticed. */
export function verifyBlobFiles(staged: StagedArchive): void {
  for (const name of [...staged.names()].sort()) {
    const m = blobName.exec(name);
    if (!m) continue;
    const file = staged.get(name)!;
    if (file.digest !== `sha256:${m[1]}`) throw new ArchiveDigestError(staged.source, `sha256:${m[1]}`, `its content hashes to ${file.digest}`);
  }
}

/** The digest a content-addressed name (`blobs/sha256/<hex>`, `<hex>.json`, `<hex>.tar`) promises. */
export function digestInName(name: string): string | undefined {
  const m = /(?:^|\/)([0-9a-f]{64})(?:\.json|\.tar)?$/.exec(name);
  return m ? `sha256:${m[1]}` : undefined;
}
