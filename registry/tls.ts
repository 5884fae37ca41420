// TLS trust for one registry as docker sets it up: the system CAs, plus every *.crt under
// certs.d/<host[:port]>/ as extra CAs and a client.cert/client.key pair there for mutual TLS.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { rootCertificates } from 'node:tls';

export const DEFAULT_CERTS_D = '/etc/docker/certs.d';

export interface TlsOptions {
  ca?: string[];
  cert?: Buffer;
  key?: Buffer;
}

/** `KILN_CERTS_D` points tests (and unusual setups) at another certs.d root. */
export function certsRoot(env: NodeJS.ProcessEnv, given?: string): string {
  return given ?? env.KILN_CERTS_D ?? DEFAULT_CERTS_D;
}

/** The directory docker reads for `host` (a `:` port is kept, as in docker's layout). */
export function certsDirFor(root: string, host: string): string {
  return path.join(root, host);
}

/**
 * The connect options for `host`; empty when certs.d has nothing for it, so Node's own trust
 * (system CAs and NODE_EXTRA_CA_CERTS) applies unchanged.
 */
export async function tlsOptionsFor(root: string, host: string, env: NodeJS.ProcessEnv): Promise<TlsOptions> {
  const dir = certsDirFor(root, host);
  let names: string[];
  try {
    names = (await readdir(dir)).sort();
  } catch {
    return {};
  }
  const out: TlsOptions = {};
  const cas = await Promise.all(names.filter((n) => n.endsWith('.crt')).map((n) => readFile(path.join(dir, n), 'utf8')));
  if (cas.length > 0) {
    // Giving `ca` replaces Node's default list, so the defaults are added back.
    const extra = env.NODE_EXTRA_CA_CERTS ? await readFile(env.NODE_EXTRA_CA_CERTS, 'utf8').catch(() => undefined) : undefined;
    out.ca = [...rootCertificates, ...(extra ? [extra] : []), ...cas];
  }
  for (const cert of names.filter((n) => n.endsWith('.cert'))) {
    const key = cert.slice(0, -'.cert'.length) + '.key';
    if (!names.includes(key)) continue;
    out.cert = await readFile(path.join(dir, cert));
    out.key = await readFile(path.join(dir, key));
    break;
  }
  return out;
}
