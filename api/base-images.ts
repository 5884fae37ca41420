// FROM images for a build, resolved through the local store and pinned to what each name points
// at now; each name once per build, since stages often share a base.
import type { ImageResolver } from '../frontend/compile.js';
import { formatPlatform } from '../oci/platform.js';
import { ImageNotFoundError } from '../snapshotter/errors.js';
import { resolveImage } from '../snapshotter/image-read.js';
import type { Store } from '../snapshotter/store.js';

export function storeResolver(store: Store): ImageResolver {
  const resolved = new Map<string, ReturnType<ImageResolver>>();
  const resolve: ImageResolver = async (ref, platform) => {
    try {
      const img = await resolveImage(store, ref, platform);
      return { ref: `${img.name.replace(/@sha256:[a-f0-9]{64}$/, '')}@${img.record.target.digest}`, config: img.config };
    } catch (err) {
      if (err instanceof ImageNotFoundError) throw new ImageNotFoundError(ref, store.root, 'no image record by that name or digest');
      throw err;
    }
  };
  return (ref, platform) => {
    const key = `${ref} ${formatPlatform(platform)}`;
    let p = resolved.get(key);
    if (!p) resolved.set(key, (p = resolve(ref, platform)));
    return p;
  };
}
