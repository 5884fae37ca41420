// A blob another repository of the same registry holds, made present in `repo` by a cross-repo
// mount: the registry links it, no byte passes through kiln.
import type { Descriptor } from '../oci/image-spec.js';
import { repoScope } from './auth.js';
import type { RegistryClient } from './client.js';
import { BlobMountRefusedError } from './errors.js';

export async function mountBlob(client: RegistryClient, repo: string, from: string, desc: Descriptor, display: string): Promise<'exists' | 'mounted'> {
  const what = `mounting blob ${desc.digest} from ${from} into ${display}`;
  const head = await client.request({ method: 'HEAD', path: `/v2/${repo}/blobs/${desc.digest}`, scopes: [repoScope(repo, true)], ok: [200, 404], what });
  await head.body.dump();
  if (head.status === 200) return 'exists';
  const res = await client.request({
    method: 'POST',
    path: `/v2/${repo}/blobs/uploads/?mount=${encodeURIComponent(desc.digest)}&from=${encodeURIComponent(from)}`,
    scopes: [repoScope(repo, true), repoScope(from)],
    headers: { 'content-length': '0' },
    ok: [201, 202],
    what,
  });
  await res.body.dump();
  // 202: an upload session instead of a mount; it is left to expire, as the registry does with unused ones.
  if (res.status !== 201) throw new BlobMountRefusedError(client.host, from, repo, desc.digest);
  return 'mounted';
}
