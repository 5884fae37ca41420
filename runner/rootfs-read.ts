// Reading a file of a container's root from the host before it runs, through the layers an overlay
// would stack (upper first) and with the image's symlinks resolved inside the root, never on the host
// (native/confine's union resolver).

import { lstat, readFile } from 'node:fs/promises';
import { native } from '../native/binding.js';
import { hasCode } from '../native/native-error.js';
import type { ContainerSpec } from './spec.js';

/** The directories whose union is the container's root, topmost first. */
export function rootLayers(spec: Pick<ContainerSpec, 'rootfs' | 'upper'>): string[] {
  if (!spec.upper) return [spec.rootfs];
  return [spec.upper.upperDir, ...(spec.upper.lowers.length ? spec.upper.lowers : [spec.rootfs])];
}

/** The contents of `file` (absolute, container view) in the merged root, or undefined when it has none. */
export async function readRootFile(layers: string[], file: string): Promise<string | undefined> {
  let host: string | null;
  try {
    host = await native.resolveInLayers(layers, file);
  } catch (err) {
    // A symlink loop leaves the image without the file, as it would inside the container.
    if (hasCode(err, 'ELOOP')) return undefined;
    throw err;
  }
  if (host === null || !(await lstat(host)).isFile()) return undefined;
  return readFile(host, 'utf8');
}
