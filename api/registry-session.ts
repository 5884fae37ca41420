// What pull and push share: how registries are reached (the docker config's credentials, the
// insecure list, certs.d) and the events they report, one per resolved reference and per blob.
import { Registries } from '../registry/registries.js';

export interface RegistryAccess {
  env?: NodeJS.ProcessEnv;
  /** --insecure-registry hosts (the registry settings, registry/config-file.ts, add to them). */
  insecureRegistries?: readonly string[];
  /** Clients to share with other pulls and pushes of the same operation (closed by its owner). */
  registries?: Registries;
}

export type BlobStatus = 'fetched' | 'present' | 'pushed' | 'exists' | 'mounted';

export type RegistryEvent =
  /** A tag (or digest) resolved: `ref` is the full name, `digest` what it points at. */
  | { type: 'resolve'; ref: string; digest: string; time: number }
  | { type: 'blob'; ref: string; digest: string; size: number; status: BlobStatus; time: number }
  /** Bytes of a blob moved so far (`done` of `size`), as often as they arrive: renderers throttle. */
  | { type: 'blob.bytes'; ref: string; digest: string; size: number; done: number; direction: 'push' | 'pull'; time: number }
  /** A pull or push finished: `digest` is the image's. */
  | { type: 'pulled' | 'pushed'; ref: string; digest: string; time: number };

/** The given clients, or new ones the caller closes with `done()`. */
export function openRegistries(opts: RegistryAccess): { registries: Registries; done: () => Promise<void> } {
  if (opts.registries) return { registries: opts.registries, done: async () => undefined };
  const registries = new Registries({
    ...(opts.env ? { env: opts.env } : {}),
    ...(opts.insecureRegistries ? { insecureRegistries: opts.insecureRegistries } : {}),
  });
  return { registries, done: () => registries.close() };
}
