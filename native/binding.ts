// Loads the Rust addon (built by `npm run build:native` into native/) and gives it TypeScript types.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export interface FileDigest {
  /** `sha256:<hex>` */
  digest: string;
  size: number;
}

export interface NativeAddon {
  sha256File(path: string): Promise<FileDigest>;
}

// dist/native/binding.js and native/binding.ts both sit one or two levels below the repo root;
// the addon always lives in <root>/native/.
function addonPath(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  if (path.basename(path.dirname(dir)) === 'dist') dir = path.join(dir, '..', '..', 'native');
  return path.join(dir, 'kiln-native.node');
}

const load = createRequire(import.meta.url);
export const native: NativeAddon = load(addonPath()) as NativeAddon;
