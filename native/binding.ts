// Loads the Rust addon (built by `npm run build:native` into native/). Its types are generated
// from the Rust source by napi-rs into kiln-native.d.ts (committed; `npm test` fails when it is
// stale), so a change of a Rust signature breaks the TypeScript build instead of a call at run time.
import { createRequire } from 'node:module';
import path from 'node:path';
import { PACKAGE_DIR } from './package-dir.js';
import type * as NativeAddon from './kiln-native.js';

export type { BlobIngest, CopyPlanOp, FileDigest, LayerEntry, LayerInfo, RawTreeScan } from './kiln-native.js';

const load = createRequire(import.meta.url);
export const native: typeof NativeAddon = load(path.join(PACKAGE_DIR, 'native', 'kiln-native.node')) as typeof NativeAddon;
