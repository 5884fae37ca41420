// `--build-arg` values and the ARGs Docker predefines (proxies, platforms).
import type { Platform } from '../oci/image-spec.js';
import { formatPlatform } from '../oci/platform.js';
import { BuildArgError } from './errors.js';

/** Proxy ARGs: usable without an ARG line, and kept out of image history as Docker does. */
export const PROXY_ARGS = [
  'HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy',
  'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy',
] as const;

/**
 * Parses `--build-arg` values: `K=V` sets K; a bare `K` takes K from the environment (and is
 * left unset when the environment lacks it), as `docker build` does.
 */
export function parseBuildArgs(values: string[], env: NodeJS.ProcessEnv): Map<string, string> {
  const out = new Map<string, string>();
  for (const v of values) {
    const eq = v.indexOf('=');
    const key = eq < 0 ? v : v.slice(0, eq);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
      throw new BuildArgError(`invalid --build-arg '${v}': expected NAME=VALUE or NAME, with NAME made of letters, digits and '_'`);
    }
    if (eq >= 0) out.set(key, v.slice(eq + 1));
    else if (env[key] !== undefined) out.set(key, env[key] as string);
  }
  return out;
}

/** The platform ARGs BuildKit defines automatically for the global scope. */
export function platformArgs(target: Platform, build: Platform): Map<string, string> {
  const m = new Map<string, string>();
  for (const [prefix, p] of [['TARGET', target], ['BUILD', build]] as const) {
    m.set(`${prefix}PLATFORM`, formatPlatform(p));
    m.set(`${prefix}OS`, p.os);
    m.set(`${prefix}ARCH`, p.architecture);
    m.set(`${prefix}VARIANT`, p.variant ?? '');
  }
  return m;
}
