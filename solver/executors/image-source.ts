// The docker-image source: a base image from the local store (which the build's ensureImage may
// first pull it into), unpacked into its layers' snapshots.
import { ImageNotFoundError } from '../../snapshotter/errors.js';
import { resolveImage, type ResolvedImage } from '../../snapshotter/image-read.js';
import { unpackImage } from '../../snapshotter/unpack.js';
import { fromPbPlatform } from '../llb/platform.js';
import type { OpExecutor, SolveEnv, VertexInfo } from '../types.js';

const PREFIX = 'docker-image://';

function imageRef(v: VertexInfo): string {
  return (v.op.source?.identifier ?? '').slice(PREFIX.length);
}

async function resolve(v: VertexInfo, env: SolveEnv): Promise<ResolvedImage> {
  const ref = imageRef(v);
  const platform = fromPbPlatform(v.op.platform) ?? env.platform;
  await env.ensureImage?.(ref, platform);
  try {
    return await resolveImage(env.store, ref, platform);
  } catch (err) {
    if (err instanceof ImageNotFoundError) throw new ImageNotFoundError(ref, env.store.root, 'no image record by that name or digest');
    throw err;
  }
}

export const imageSource: OpExecutor = {
  async contentKey(v, env) {
    return (await resolve(v, env)).manifestDigest;
  },
  async run(v, _inputs, env) {
    const resolved = await resolve(v, env);
    // Leased, then looked for again: an rmi and prune between the two would have taken it.
    await env.store.leases.add(env.lease, { kind: 'blob', key: resolved.manifestDigest });
    if (!(await env.store.content.has(resolved.manifestDigest))) {
      throw new ImageNotFoundError(imageRef(v), env.store.root, 'it was removed (rmi and prune) while this build ran');
    }
    return [{ snapshot: await unpackImage(env.store, env.snapshotter, resolved) }];
  },
};
