// When and how long to wait before trying a registry request again: 5xx and 429 answers (a
// Retry-After is honoured) and connections dropped or refused, with exponential backoff and jitter.

export interface RetryPolicy {
  /** Tries in all, the first included. */
  attempts: number;
  baseMs: number;
  maxMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseMs: 200, maxMs: 10_000 };

/** A status worth another try; thrown inside the client, never out of it. */
export class TransientStatus extends Error {
  constructor(readonly status: number, readonly retryAfterMs: number | undefined, readonly detail: string) {
    super(`HTTP ${status}`);
    this.name = 'TransientStatus';
  }
}

const DROPS = new Set([
  'ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED', 'EAI_AGAIN',
  'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH', 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
]);

/** A connection that broke or could not be made (the request may or may not have arrived). */
export function isConnectionDrop(err: unknown): boolean {
  const e = err as { code?: string; cause?: { code?: string } } | null;
  return DROPS.has(e?.code ?? '') || DROPS.has(e?.cause?.code ?? '') || (err instanceof Error && err.message === 'other side closed');
}

/** A drop as the client reports it after its own tries: worth resuming an upload or download for. */
export function wasDropped(err: unknown): boolean {
  return isConnectionDrop(err) || (err as { dropped?: unknown } | null)?.dropped === true;
}

export function isTransientStatus(status: number): boolean {
  return status === 429 || status === 408 || (status >= 500 && status !== 501 && status !== 505);
}

/** Retry-After as seconds or an HTTP date, in ms; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Full jitter: a random wait up to the exponential bound, so many clients do not retry in step. */
export function backoffMs(attempt: number, policy: RetryPolicy, random = Math.random): number {
  return Math.round(random() * Math.min(policy.maxMs, policy.baseMs * 2 ** attempt));
}

/** Runs `fn` until it succeeds, fails with something not transient, or the tries run out. */
export async function retrying<T>(policy: RetryPolicy, fn: (attempt: number) => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      const transient = err instanceof TransientStatus || isConnectionDrop(err);
      if (!transient || attempt + 1 >= policy.attempts) throw err;
      const asked = err instanceof TransientStatus ? err.retryAfterMs : undefined;
      await new Promise((r) => setTimeout(r, asked !== undefined ? Math.min(asked, policy.maxMs) : backoffMs(attempt, policy)));
    }
  }
}
