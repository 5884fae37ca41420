// Authorization for one registry host: anonymous until it challenges, then Basic with the
// credentials found, or Bearer tokens from the challenge's realm (per scope set, cached until they
// expire, fetched anew on a 401). Tokens and credentials live only in memory here.
import { isTransientStatus, parseRetryAfter, retrying, TransientStatus, type RetryPolicy } from './retry.js';
import { parseChallenge, type Challenge } from './challenge.js';
import type { Credentials } from './credentials.js';
import { RegistryHttpError, RegistryUnauthorizedError } from './errors.js';
import { header, type Transport } from './transport.js';

interface CachedToken {
  value: string;
  expiresAt: number;
}

interface TokenAnswer {
  token?: string;
  access_token?: string;
  expires_in?: number;
  issued_at?: string;
  refresh_token?: string;
}

/** The spec's default lifetime of a token that does not say. */
const DEFAULT_TOKEN_SECONDS = 60;
/** A token this close to expiry is fetched anew rather than used. */
const EXPIRY_MARGIN_MS = 5_000;
const CLIENT_ID = 'kiln';

export class Authenticator {
  private challenge: Challenge | undefined;
  /** Per scope set; a promise, so requests that start together share one token fetch. */
  private readonly tokens = new Map<string, Promise<CachedToken>>();
  private creds: Promise<Credentials | undefined> | undefined;
  /** A refresh token the token server gave this process (offline_token), used over the password. */
  private refreshToken: string | undefined;

  constructor(
    readonly host: string,
    private readonly transport: Transport,
    private readonly loadCredentials: () => Promise<Credentials | undefined>,
    private readonly retry: RetryPolicy,
  ) {}

  /** The Authorization value for a request needing `scopes`; undefined while none was asked for. */
  async authorization(scopes: readonly string[]): Promise<string | undefined> {
    const c = this.challenge;
    if (c === undefined) return undefined;
    if (c.scheme === 'basic') {
      const creds = await this.credentials();
      if (creds?.username === undefined) return undefined;
      return `Basic ${Buffer.from(`${creds.username}:${creds.password ?? ''}`).toString('base64')}`;
    }
    const key = scopeKey(scopes);
    const held = this.tokens.get(key);
    if (held) {
      const t = await held.catch(() => undefined);
      if (t && t.expiresAt - EXPIRY_MARGIN_MS > Date.now()) return `Bearer ${t.value}`;
      if (this.tokens.get(key) === held) this.tokens.delete(key);
    }
    let pending = this.tokens.get(key);
    if (!pending) {
      const fetching = this.fetchToken(c, scopes);
      this.tokens.set(key, (pending = fetching));
      fetching.catch(() => this.tokens.get(key) === fetching && this.tokens.delete(key));
    }
    return `Bearer ${(await pending).value}`;
  }

  /**
   * Takes a 401's challenge and drops the token that was refused, so the next authorization()
   * asks anew; throws when asking again cannot help (no challenge, or Basic credentials refused).
   */
  async unauthorized(wwwAuthenticate: string | undefined, scopes: readonly string[], sent: string | undefined, what: string): Promise<void> {
    const next = parseChallenge(wwwAuthenticate);
    if (next === undefined) throw new RegistryUnauthorizedError(this.host, what, (await this.credentials()) !== undefined);
    const known = this.challenge;
    this.challenge = next;
    // Only the token that was refused goes: requests racing this one may have fetched a newer one.
    const key = scopeKey(scopes);
    const held = this.tokens.get(key);
    if (held && sent !== undefined && `Bearer ${(await held.catch(() => undefined))?.value}` === sent && this.tokens.get(key) === held) this.tokens.delete(key);
    if (sent === undefined || known === undefined) return;
    // Basic credentials that were sent and refused will be refused again.
    if (next.scheme === 'basic' && sent.startsWith('Basic ')) throw new RegistryUnauthorizedError(this.host, what, true);
  }

  async hasCredentials(): Promise<boolean> {
    return (await this.credentials()) !== undefined;
  }

  private credentials(): Promise<Credentials | undefined> {
    this.creds ??= this.loadCredentials();
    return this.creds;
  }

  private async fetchToken(c: Challenge, scopes: readonly string[]): Promise<CachedToken> {
    const realm = c.params.realm;
    if (!realm) throw new RegistryHttpError(this.host, 'authentication', 401, 'the Bearer challenge names no realm');
    const url = new URL(realm);
    const service = c.params.service;
    const creds = await this.credentials();
    const refresh = this.refreshToken ?? creds?.identityToken;
    const what = `getting a token from ${url.host}`;
    const answer = await retrying(this.retry, async () => {
      const headers: Record<string, string> = { 'user-agent': 'kiln', accept: 'application/json' };
      let method: 'GET' | 'POST' = 'GET';
      let body: string | undefined;
      if (refresh !== undefined) {
        // The OAuth2 refresh flow, as docker uses for an identity token.
        method = 'POST';
        headers['content-type'] = 'application/x-www-form-urlencoded';
        const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refresh, client_id: CLIENT_ID });
        if (service) form.set('service', service);
        if (scopes.length) form.set('scope', scopes.join(' '));
        body = form.toString();
      } else {
        if (service) url.searchParams.set('service', service);
        for (const s of scopes) url.searchParams.append('scope', s);
        if (creds?.username !== undefined) {
          headers.authorization = `Basic ${Buffer.from(`${creds.username}:${creds.password ?? ''}`).toString('base64')}`;
          url.searchParams.set('offline_token', 'true');
          url.searchParams.set('client_id', CLIENT_ID);
        }
      }
      const res = await this.transport.request({ method, url, headers, ...(body !== undefined ? { body } : {}) });
      if (res.status === 401 || res.status === 403) {
        await res.body.dump();
        throw new RegistryUnauthorizedError(this.host, what, creds !== undefined);
      }
      if (res.status !== 200) {
        await res.body.dump();
        if (isTransientStatus(res.status)) throw new TransientStatus(res.status, parseRetryAfter(header(res, 'retry-after')), '');
        throw new RegistryHttpError(this.host, what, res.status, '');
      }
      return (await res.body.json()) as TokenAnswer;
    });
    const value = answer.token ?? answer.access_token;
    if (!value) throw new RegistryHttpError(this.host, what, 200, 'the answer holds no token');
    if (answer.refresh_token) this.refreshToken = answer.refresh_token;
    const issued = answer.issued_at ? Date.parse(answer.issued_at) : NaN;
    const start = Number.isNaN(issued) ? Date.now() : Math.min(issued, Date.now());
    return { value, expiresAt: start + (answer.expires_in ?? DEFAULT_TOKEN_SECONDS) * 1000 };
  }
}

function scopeKey(scopes: readonly string[]): string {
  return [...scopes].sort().join(' ');
}

/** The scope a request on `repo` needs: pull, or pull and push. */
export function repoScope(repo: string, push = false): string {
  return `repository:${repo}:${push ? 'pull,push' : 'pull'}`;
}
