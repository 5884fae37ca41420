// Where the namespace helper binary (native/helper, built by `npm run build:native`) lives.

import { access, constants } from 'node:fs/promises';
import path from 'node:path';
import { PACKAGE_DIR } from '../native/package-dir.js';
import { HelperMissingError } from './errors.js';

export const HELPER_PATH = path.join(PACKAGE_DIR, 'native', 'helper', 'target', 'release', 'kiln-ns');

export async function helperPath(): Promise<string> {
  try {
    await access(HELPER_PATH, constants.X_OK);
  } catch {
    throw new HelperMissingError(HELPER_PATH);
  }
  return HELPER_PATH;
}
