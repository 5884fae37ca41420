// The images a build starts from (FROM, COPY --from, RUN --mount from=), as `docker build` finds
// them: the store's when it has the name for the platform, else pulled; with `pull`, tags are
// resolved at the registry again. Each name once per build; FROM names are pinned to a digest.
import type { ImageResolver } from '../frontend/compile.js';
import type { Platform } from '../oci/image-spec.js';
import { formatPlatform } from '../oci/platform.js';
import { parseReference } from '../oci/reference.js';
import { BlobNotFoundError, ImageNotFoundError, PlatformNotFoundError } from '../snapshotter/errors.js';
import { resolveImage } from '../snapshotter/image-read.js';
import type { Store } from '../snapshotter/store.js';
import { BaseImagePullError } from './errors.js';
import { isUserError } from '../errors/kiln-error.js';
import { pull } from './pull.js';
import type { RegistryAccess, RegistryEvent } from './registry-session.js';

export interface BaseImageOptions extends RegistryAccess {
  /** Resolve tags at the registry even when the store has the name (`--pull`). */
  pull?: boolean;
  onEvent?: (e: RegistryEvent) => void;
}

export interface BaseImages {
  /** For the frontend: the image's config, and its name pinned to the digest it has now. */
  resolver: ImageResolver;
  /** For the solver: makes sure the store has `ref` for `platform`, pulling it if not. */
  ensure(ref: string, platform: Platform): Promise<void>;
}

/** The store lacks the image (or the platform, or some of its blobs): a pull can fix that. */
export function isMissing(err: unknown): boolean {
  return err instanceof ImageNotFoundError || err instanceof PlatformNotFoundError || err instanceof BlobNotFoundError;
}

export function baseImages(store: Store, opts: BaseImageOptions = {}): BaseImages {
  const ensured = new Map<string, Promise<void>>();
  const fetch = async (ref: string, platform: Platform): Promise<void> => {
    // A digest cannot move: --pull has nothing to re-resolve when the store has it.
    const pinned = parseReference(ref).digest !== undefined;
    let localError: unknown;
    try {
      await resolveImage(store, ref, platform);
      if (!opts.pull || pinned) return;
    } catch (err) {
      if (!isMissing(err)) throw err;
      localError = err;
    }
    try {
      await pull(store, ref, { ...opts, platform });
    } catch (err) {
      if (!isUserError(err)) throw err;
      // The store's image without the platform says more than a registry that cannot be reached.
      if (localError instanceof PlatformNotFoundError) throw localError;
      const reason = (err as Error).message;
      throw localError === undefined ? new BaseImagePullError(ref, reason) : new ImageNotFoundError(ref, store.root, `pulling it failed: ${reason}`);
    }
  };
  const ensure = (ref: string, platform: Platform): Promise<void> => {
    const key = `${ref} ${formatPlatform(platform)}`;
    let p = ensured.get(key);
    if (!p) ensured.set(key, (p = fetch(ref, platform)));
    return p;
  };
  const resolver: ImageResolver = async (ref, platform) => {
    await ensure(ref, platform);
    try {
      const img = await resolveImage(store, ref, platform);
      return { ref: `${img.name.replace(/@sha256:[a-f0-9]{64}$/, '')}@${img.record.target.digest}`, config: img.config };
    } catch (err) {
      if (err instanceof ImageNotFoundError) throw new ImageNotFoundError(ref, store.root, 'no image record by that name or digest');
      throw err;
    }
  };
  return { resolver, ensure };
}
