// Reading a file of a container's root from the host before it runs, through the layers an overlay
// would stack (upper first) and with the image's symlinks resolved inside the root, never on the host.

import { lstat, readFile, readlink } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import path from 'node:path';
import type { ContainerSpec } from './spec.js';

const MAX_SYMLINKS = 40;

/** The directories whose union is the container's root, topmost first. */
export function rootLayers(spec: Pick<ContainerSpec, 'rootfs' | 'upper'>): string[] {
  if (!spec.upper) return [spec.rootfs];
  return [spec.upper.upperDir, ...(spec.upper.lowers.length ? spec.upper.lowers : [spec.rootfs])];
}

// An overlay whiteout: a 0:0 character device hides the entry in every layer below.
const isWhiteout = (s: Stats): boolean => s.isCharacterDevice() && s.rdev === 0;

/** The topmost layer's entry for `rel` (a resolved path relative to the root), if the merged root has one. */
async function lookup(layers: string[], rel: string): Promise<{ host: string; stats: Stats } | undefined> {
  for (const layer of layers) {
    const host = path.join(layer, rel);
    const stats = await lstat(host).catch(() => undefined);
    if (!stats) continue;
    return isWhiteout(stats) ? undefined : { host, stats };
  }
  return undefined;
}

/** The contents of `file` (absolute, container view) in the merged root, or undefined when it has none. */
export async function readRootFile(layers: string[], file: string): Promise<string | undefined> {
  const todo = file.split('/').filter((p) => p && p !== '.');
  const done: string[] = [];
  let links = 0;
  while (todo.length > 0) {
    const part = todo.shift() as string;
    if (part === '..') {
      done.pop();
      continue;
    }
    const found = await lookup(layers, [...done, part].join('/'));
    if (!found) return undefined;
    if (found.stats.isSymbolicLink()) {
      if (++links > MAX_SYMLINKS) return undefined;
      const target = await readlink(found.host);
      if (target.startsWith('/')) done.length = 0;
      todo.unshift(...target.split('/').filter((p) => p && p !== '.'));
      continue;
    }
    done.push(part);
  }
  const found = await lookup(layers, done.join('/'));
  return found?.stats.isFile() ? readFile(found.host, 'utf8') : undefined;
}
