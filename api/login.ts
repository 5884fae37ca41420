// `login()` and `logout()`: credentials for a registry checked against it (GET /v2/ with them,
// through its token server where it has one) and recorded as docker does, in the docker config or
// its credential helper. The password is never returned, printed or put in an error.
import { RegistryClient } from '../registry/client.js';
import { removeCredentials, saveCredentials } from '../registry/credentials.js';
import { parseReference } from '../oci/reference.js';
import type { RegistryAccess } from './registry-session.js';

/** A registry named as docker login takes it: `reg:5000`, `https://reg/`, or nothing for Docker Hub. */
export function registryHost(server: string | undefined): string {
  if (server === undefined || server === '') return 'docker.io';
  const bare = server.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
  return bare === 'index.docker.io' || bare === 'registry-1.docker.io' ? 'docker.io' : parseReference(`${bare}/x`).domain;
}

/** Checks the credentials and stores them; returns where they went (`config` or the helper's name). */
export async function login(server: string | undefined, creds: { username: string; password: string }, opts: Omit<RegistryAccess, 'registries'> = {}): Promise<string> {
  const host = registryHost(server);
  const env = opts.env ?? process.env;
  const client = new RegistryClient(host, { env, credentials: creds, ...(opts.insecureRegistries ? { insecureRegistries: opts.insecureRegistries } : {}) });
  try {
    const res = await client.request({ method: 'GET', path: '/v2/', scopes: [], ok: [200], what: 'logging in' });
    await res.body.dump();
  } finally {
    await client.close();
  }
  return saveCredentials(host, creds, env);
}

/** Forgets a registry's credentials; false when none were recorded. */
export function logout(server: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  return removeCredentials(registryHost(server), env);
}
