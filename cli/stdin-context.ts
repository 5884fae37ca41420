// `kiln build -` and `-f -`: what docker reads from stdin (a Dockerfile, or a tar context,
// possibly compressed) made into files the build can read, in a temp dir removed afterwards.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { UsageError } from './errors.js';

const run = promisify(execFile);

export interface StdinInput {
  /** A directory holding what stdin gave: the extracted context, or just a Dockerfile. */
  dir: string;
  cleanup(): Promise<void>;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : c);
  return Buffer.concat(chunks);
}

/** gzip, bzip2, xz, zstd, or a plain tar (the ustar magic at 257). */
function isArchive(b: Buffer): boolean {
  const magic = (bytes: number[]) => bytes.every((v, i) => b[i] === v);
  return magic([0x1f, 0x8b]) || magic([0x42, 0x5a, 0x68]) || magic([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]) || magic([0x28, 0xb5, 0x2f, 0xfd]) || b.subarray(257, 262).toString('latin1') === 'ustar';
}

/**
 * Reads stdin. An archive becomes the build context (GNU tar refuses members that climb out of
 * the directory); anything else is taken as the Dockerfile of an otherwise empty context.
 */
export async function readStdinInput(stdin: NodeJS.ReadableStream): Promise<StdinInput> {
  const data = await readAll(stdin);
  if (data.length === 0) throw new UsageError("nothing on stdin: pipe a Dockerfile or a tar of the build context into 'kiln build -'");
  const dir = await mkdtemp(path.join(tmpdir(), 'kiln-stdin-'));
  const cleanup = () => rm(dir, { recursive: true, force: true });
  try {
    if (isArchive(data)) {
      const archive = `${dir}.tar`;
      await writeFile(archive, data);
      try {
        await run('tar', ['-xf', archive, '-C', dir, '--no-same-owner']);
      } catch (err) {
        throw new UsageError(`stdin looks like an archive but tar cannot extract it: ${((err as { stderr?: string }).stderr ?? '').trim() || (err as Error).message}`);
      } finally {
        await rm(archive, { force: true });
      }
    } else {
      await writeFile(path.join(dir, 'Dockerfile'), data);
    }
    return { dir, cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
