// HTTP to registries on undici: one Pool per origin (keep-alive, no pipelining, a bounded number
// of connections), each with that host's TLS trust. Knows nothing of the distribution API.
import { setFlagsFromString } from 'node:v8';
import type { Pool } from 'undici';
import type { Readable } from 'node:stream';
import type { TlsOptions } from './tls.js';

export type RequestBody = Buffer | string | Readable;

export interface HttpRequest {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: URL;
  headers: Record<string, string>;
  body?: RequestBody;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Readable & { text(): Promise<string>; json(): Promise<unknown>; arrayBuffer(): Promise<ArrayBuffer>; dump(): Promise<void> };
}

export interface TransportOptions {
  /** Connections per origin (default 6). */
  connections?: number;
  /** TLS options for an origin's host[:port]. */
  tlsFor: (host: string) => Promise<TlsOptions>;
}

export class Transport {
  private readonly pools = new Map<string, Promise<Pool>>();

  constructor(private readonly opts: TransportOptions) {}

  async request(req: HttpRequest): Promise<HttpResponse> {
    const pool = await this.pool(req.url);
    const res = await pool.request({
      method: req.method,
      path: req.url.pathname + req.url.search,
      headers: req.headers,
      ...(req.body !== undefined ? { body: req.body } : {}),
    });
    return { status: res.statusCode, headers: res.headers, body: res.body as unknown as HttpResponse['body'] };
  }

  async close(): Promise<void> {
    const pools = await Promise.all([...this.pools.values()].map((p) => p.catch(() => undefined)));
    this.pools.clear();
    await Promise.all(pools.map((p) => p?.close()));
  }

  private pool(url: URL): Promise<Pool> {
    let p = this.pools.get(url.origin);
    if (!p) {
      p = (async () => {
        const tls = url.protocol === 'https:' ? await this.opts.tlsFor(url.host) : {};
        // Loaded on first use: commands that never reach a registry do not pay for undici.
        const { Pool } = await loadUndici();
        return new Pool(url.origin, {
          connections: this.opts.connections ?? 6,
          pipelining: 1,
          keepAliveTimeout: 30_000,
          // Large layers stream for long; only silence is a failure.
          bodyTimeout: 120_000,
          headersTimeout: 120_000,
          connect: { ...tls },
        });
      })();
      this.pools.set(url.origin, p);
    }
    return p;
  }
}

/**
 * undici parses HTTP with llhttp compiled to WebAssembly. V8 compiles it fast (Liftoff), then again
 * optimised in the background, and a process does not exit until that second compile is done: it
 * kept `kiln push` alive 0.2-0.3 s after its last request here. The parser's share of a transfer is
 * small, so the baseline code is kept; set before undici compiles anything.
 */
async function loadUndici(): Promise<typeof import('undici')> {
  setFlagsFromString('--liftoff-only');
  return import('undici');
}

/** A header's value (the first, when repeated). */
export function header(res: HttpResponse, name: string): string | undefined {
  const v = res.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}
