// One registry host as the distribution API sees it: its base URL (HTTPS, or plain HTTP where
// insecure.ts allows and HTTPS is not spoken), authorization, retries, and redirects, which are
// followed without the registry's credentials when they lead to another host.
import { Authenticator } from './auth.js';
import { findCredentials, type Credentials } from './credentials.js';
import { RegistryHttpError, RegistryTlsError, RegistryUnauthorizedError, RegistryUnreachableError } from './errors.js';
import { stat } from 'node:fs/promises';
import { registrySettings } from './config-file.js';
import { allowsPlainHttp, hostName, isLoopback } from './insecure.js';
import { DEFAULT_RETRY, isConnectionDrop, isTransientStatus, parseRetryAfter, retrying, TransientStatus, type RetryPolicy } from './retry.js';
import { certsDirFor, certsRoot, tlsOptionsFor } from './tls.js';
import { header, Transport, type HttpRequest, type HttpResponse, type RequestBody } from './transport.js';

export interface ClientOptions {
  env?: NodeJS.ProcessEnv;
  /** Hosts (or CIDRs) allowed plain HTTP besides loopback; the registry settings' add to them. */
  insecureRegistries?: readonly string[];
  /** The certs.d root (default $KILN_CERTS_D or /etc/docker/certs.d). */
  certsDir?: string;
  /** Connections per registry origin. */
  connections?: number;
  retry?: Partial<RetryPolicy>;
  /** Credentials to use instead of the docker config's (login checks them this way). */
  credentials?: Credentials;
}

export interface RegistryRequest {
  method: HttpRequest['method'];
  /** A path under the registry (`/v2/…`) or an absolute URL (an upload's Location). */
  path: string | URL;
  scopes: readonly string[];
  headers?: Record<string, string>;
  /** Made anew for every try, so a retried upload sends its bytes again. */
  body?: () => RequestBody;
  /** Statuses handed back to the caller; any other is an error (after retries where they apply). */
  ok: readonly number[];
  /** Names the operation in errors: `pulling manifest app:1`. */
  what: string;
  /** False for a request that must not be repeated blindly (the caller resumes it instead). */
  retry?: boolean;
}

const MAX_REDIRECTS = 5;
const CERT_ERRORS = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ERR_TLS_CERT_ALTNAME/;

/** Docker Hub's API lives on another host than its name. */
function apiHost(host: string): string {
  return host === 'docker.io' || host === 'index.docker.io' ? 'registry-1.docker.io' : host;
}

export class RegistryClient {
  readonly auth: Authenticator;
  private readonly transport: Transport;
  private readonly retry: RetryPolicy;
  private readonly certsRoot: string;
  private base: Promise<URL> | undefined;
  private readonly insecure: readonly string[];

  constructor(readonly host: string, opts: ClientOptions = {}) {
    const env = opts.env ?? process.env;
    this.certsRoot = certsRoot(env, opts.certsDir);
    this.insecure = [...(opts.insecureRegistries ?? []), ...registrySettings(env).insecure];
    this.retry = { ...DEFAULT_RETRY, ...opts.retry };
    this.transport = new Transport({
      ...(opts.connections !== undefined ? { connections: opts.connections } : {}),
      tlsFor: (h) => tlsOptionsFor(this.certsRoot, h, env),
    });
    const creds = opts.credentials;
    this.auth = new Authenticator(host, this.transport, creds ? async () => creds : () => findCredentials(host, env), this.retry);
  }

  /** `https://host/` or, for a loopback or listed insecure host that does not speak TLS, `http://host/`. */
  baseUrl(): Promise<URL> {
    this.base ??= this.probe();
    return this.base;
  }

  async request(req: RegistryRequest): Promise<HttpResponse> {
    const base = await this.baseUrl();
    const policy = req.retry === false ? { ...this.retry, attempts: 1 } : this.retry;
    try {
      return await retrying(policy, () => this.once(base, req));
    } catch (err) {
      throw this.describe(err);
    }
  }

  async close(): Promise<void> {
    await this.transport.close();
  }

  private async once(base: URL, req: RegistryRequest): Promise<HttpResponse> {
    let url = typeof req.path === 'string' ? new URL(req.path, base) : req.path;
    // One more try after learning the challenge, and one after a token was refused (expired, revoked).
    let challenged = false;
    let refreshed = false;
    for (let hops = 0; ; ) {
      const own = url.origin === base.origin;
      const authorization = own ? await this.auth.authorization(req.scopes) : undefined;
      const headers: Record<string, string> = { 'user-agent': 'kiln', ...req.headers };
      if (authorization !== undefined) headers.authorization = authorization;
      const body = req.body?.();
      const res = await this.transport.request({ method: req.method, url, headers, ...(body !== undefined ? { body } : {}) });
      const retryAuth = authorization === undefined ? !challenged : authorization.startsWith('Bearer ') && !refreshed;
      if (res.status === 401 && own && retryAuth) {
        await res.body.dump();
        await this.auth.unauthorized(header(res, 'www-authenticate'), req.scopes, authorization, req.what);
        if (authorization === undefined) challenged = true;
        else refreshed = true;
        continue;
      }
      if (res.status === 401 || (res.status === 403 && own && authorization === undefined)) {
        await res.body.dump();
        throw new RegistryUnauthorizedError(this.host, req.what, await this.auth.hasCredentials());
      }
      const location = header(res, 'location');
      if ([301, 302, 303, 307, 308].includes(res.status) && location && (req.method === 'GET' || req.method === 'HEAD') && !req.ok.includes(res.status)) {
        await res.body.dump();
        if (++hops > MAX_REDIRECTS) throw new RegistryHttpError(this.host, req.what, res.status, 'too many redirects');
        url = new URL(location, url);
        continue;
      }
      if (req.ok.includes(res.status)) return res;
      const detail = await errorDetail(res);
      if (isTransientStatus(res.status)) throw new TransientStatus(res.status, parseRetryAfter(header(res, 'retry-after')), detail);
      throw new RegistryHttpError(this.host, req.what, res.status, detail);
    }
  }

  private describe(err: unknown): unknown {
    if (err instanceof TransientStatus) return new RegistryHttpError(this.host, 'request', err.status, err.detail || 'the registry kept failing');
    const code = (err as { code?: string; cause?: { code?: string } }).cause?.code ?? (err as { code?: string }).code ?? '';
    if (CERT_ERRORS.test(code)) return new RegistryTlsError(this.host, code, certsDirFor(this.certsRoot, this.host));
    if (isConnectionDrop(err) || code === 'ENOTFOUND' || code === 'EHOSTUNREACH') return new RegistryUnreachableError(this.host, code || 'connection failed', isConnectionDrop(err));
    return err;
  }

  private async probe(): Promise<URL> {
    const https = new URL(`https://${apiHost(this.host)}/`);
    if (!allowsPlainHttp(this.host, this.insecure)) return https;
    // A loopback registry is far more often plain HTTP (a CI job's, a test's): it is asked over
    // HTTP first, which spares the TLS handshake that would fail; one with a certs.d entry, or
    // that gives no distribution answer over HTTP (a TLS server's 400), gets HTTPS as before.
    if (isLoopback(hostName(this.host)) && !(await exists(certsDirFor(this.certsRoot, this.host)))) {
      const http = new URL(`http://${apiHost(this.host)}/`);
      if (await this.answersApi(http)) return http;
    }
    try {
      const res = await this.transport.request({ method: 'GET', url: new URL('/v2/', https), headers: { 'user-agent': 'kiln' } });
      await res.body.dump();
      return https;
    } catch (err) {
      const code = (err as { code?: string }).code ?? '';
      // A certificate problem means TLS is spoken: falling back to HTTP would hide it.
      if (CERT_ERRORS.test(code)) throw new RegistryTlsError(this.host, code, certsDirFor(this.certsRoot, this.host));
      return new URL(`http://${apiHost(this.host)}/`);
    }
  }

  /** Whether `base` answers the API's version check as a registry does: 200, or 401 asking for credentials. */
  private async answersApi(base: URL): Promise<boolean> {
    try {
      const res = await this.transport.request({ method: 'GET', url: new URL('/v2/', base), headers: { 'user-agent': 'kiln' } });
      await res.body.dump();
      return res.status === 200 || res.status === 401;
    } catch {
      return false;
    }
  }
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(() => true, () => false);
}

/** The registry's error codes and messages (`MANIFEST_UNKNOWN: …`), never request headers. */
async function errorDetail(res: HttpResponse): Promise<string> {
  let text = '';
  try {
    text = (await res.body.text()).slice(0, 4096);
  } catch {
    return '';
  }
  try {
    const parsed = JSON.parse(text) as { errors?: { code?: string; message?: string }[] };
    if (Array.isArray(parsed.errors)) return parsed.errors.map((e) => [e.code, e.message].filter(Boolean).join(': ')).join('; ');
  } catch {
    // not JSON: a proxy's page, say
  }
  return text.replace(/\s+/g, ' ').trim().slice(0, 200);
}
