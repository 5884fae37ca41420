// The image `kiln run` starts from, as `docker run --pull` finds it: `missing` (the default) pulls
// it when the store lacks it, `always` pulls it first (a moved tag is followed), `never` uses the
// store's or fails.
import type { Platform } from '../oci/image-spec.js';
import { familiarName, parseReference } from '../oci/reference.js';
import { resolveImage } from '../snapshotter/image-read.js';
import type { Store } from '../snapshotter/store.js';
import { isMissing } from './base-images.js';
import { OptionError } from './errors.js';
import { pull } from './pull.js';
import type { RegistryAccess, RegistryEvent } from './registry-session.js';

export const PULL_POLICIES = ['always', 'missing', 'never'] as const;
export type PullPolicy = (typeof PULL_POLICIES)[number];

export function parsePullPolicy(value: string): PullPolicy {
  if ((PULL_POLICIES as readonly string[]).includes(value)) return value as PullPolicy;
  throw new OptionError('pull', value, `use ${PULL_POLICIES.join(', ')}`);
}

export interface RunImageOptions extends RegistryAccess {
  pull: PullPolicy;
  /** Before a pull the store's lack of the image made necessary, with the name as Docker shows it (`busybox:latest`). */
  onMissing?: (name: string) => void;
  onEvent?: (e: RegistryEvent) => void;
  /** The platform to pull when the image is pulled (default: this machine's). */
  platform?: Platform;
}

/** Makes sure the store has `ref` for a run; the store's own error is thrown for `never`. */
export async function ensureRunImage(store: Store, ref: string, opts: RunImageOptions): Promise<void> {
  if (opts.pull !== 'always') {
    try {
      await resolveImage(store, ref);
      return;
    } catch (err) {
      if (opts.pull === 'never' || !isMissing(err)) throw err;
    }
    opts.onMissing?.(familiarName(parseReference(ref)));
  }
  await pull(store, ref, opts);
}
