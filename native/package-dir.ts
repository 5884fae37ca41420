// Where kiln's own files live (the addon, the namespace helper, the detached supervisor's script):
// the folder of its package.json, found by walking up from this module, because the module itself
// may sit in dist/native/ (compiled), in native/ (source) or inside dist/bundle/ (bundled into a chunk).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

function findPackageDir(): string {
  const start = path.dirname(fileURLToPath(import.meta.url));
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`kiln's package.json is in no folder above ${start}`);
  }
}

export const PACKAGE_DIR = findPackageDir();
