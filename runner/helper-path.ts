// Where the namespace helper binary (native/helper, built by `npm run build:native`) lives.

import { access, constants } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { HelperMissingError } from './errors.js';

// runner/helper-path.ts and dist/runner/helper-path.js sit one or two levels below the repo root.
function repoRoot(): string {
  const dir = path.dirname(fileURLToPath(import.meta.url));
  return path.basename(path.dirname(dir)) === 'dist' ? path.join(dir, '..', '..') : path.join(dir, '..');
}

export const HELPER_PATH = path.join(repoRoot(), 'native', 'helper', 'target', 'release', 'kiln-ns');

export async function helperPath(): Promise<string> {
  try {
    await access(HELPER_PATH, constants.X_OK);
  } catch {
    throw new HelperMissingError(HELPER_PATH);
  }
  return HELPER_PATH;
}
