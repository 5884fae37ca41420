// Listing a store directory that may not exist yet: a store is laid out lazily (and a process
// killed while creating it leaves only part), so a missing directory lists as empty. Any other
// error (EACCES, EIO) is the caller's.
import { readdir } from 'node:fs/promises';
import { errnoOf } from '../errors/os-error.js';

export async function dirEntries(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return [];
    throw err;
  }
}
