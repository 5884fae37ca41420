// The JSON record files several kiln processes share (images.json, leases.json): read without a
// lock, since they are only ever replaced whole by rename, and changed under the file's lock.
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { ingestDir, ingestPath } from './ingest.js';
import { withLock } from './lock.js';
import { writeFileAtomic } from './atomic-file.js';
import { CorruptRecordError } from './errors.js';
import { asDiskFull } from './disk-full.js';

/** How a record file describes itself: its empty state and a check of its shape. */
export interface RecordKind<T> {
  empty(): T;
  /** A reason the parsed JSON is not a T, or undefined when it is. */
  invalid(data: unknown): string | undefined;
}

export async function readRecordFile<T>(file: string, kind: RecordKind<T>): Promise<T> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return kind.empty();
    throw err;
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new CorruptRecordError(file, (err as Error).message);
  }
  const reason = kind.invalid(data);
  if (reason !== undefined) throw new CorruptRecordError(file, reason);
  return data as T;
}

/** Read-modify-write of `file` (which lives under `root`) under its lock; returns what `change` returns. */
export async function updateRecordFile<T, R>(
  root: string,
  file: string,
  kind: RecordKind<T>,
  change: (data: T) => R | Promise<R>,
): Promise<R> {
  await mkdir(ingestDir(root), { recursive: true });
  return withLock(`${file}.lock`, async () => {
    const data = await readRecordFile(file, kind);
    const before = JSON.stringify(data, null, 2) + '\n';
    const result = await change(data);
    // An unchanged record is not rewritten: it saves an fsync, and a full disk can still be read and pruned.
    const after = JSON.stringify(data, null, 2) + '\n';
    if (after !== before) await replaceFile(root, file, after);
    return result;
  });
}

async function replaceFile(root: string, file: string, text: string): Promise<void> {
  try {
    await writeFileAtomic(file, text, { tmp: ingestPath(root) });
  } catch (err) {
    throw asDiskFull(err, root, `writing ${path.basename(file)}`);
  }
}
