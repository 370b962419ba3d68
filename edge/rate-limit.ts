// RATE_LIMIT at the edge: each API key (in open mode, each client address) may send so many requests
// a second, with a burst; past it, 429 RequestLimitExceeded with Retry-After. The count lives wherever
// the limiter keeps it (Redis, shared by every host).
import type { Context, MiddlewareHandler } from 'hono';
import { type EdgeEnv, fail } from './envelope.js';

export type RateLimiter = { take(client: string): Promise<{ ok: true } | { ok: false; retryAfterMs: number }> };

export function rateLimit(o: {
  limiter: RateLimiter;
  /** The caller's address, as the runtime's adapter knows it (open mode). */
  clientAddress: (c: Context<EdgeEnv>) => string | undefined;
}): MiddlewareHandler<EdgeEnv> {
  return async (c, next) => {
    const key = c.get('apiKey')?.key;
    const client = key ? `key:${key}` : `addr:${o.clientAddress(c) ?? 'unknown'}`;
    let verdict: Awaited<ReturnType<RateLimiter['take']>>;
    try {
      verdict = await o.limiter.take(client);
    } catch {
      return fail(c, 'ServiceUnavailable', 'the request counter cannot be reached; try again', 503);
    }
    if (verdict.ok) return next();
    c.header('Retry-After', String(Math.max(1, Math.ceil(verdict.retryAfterMs / 1000))));
    return fail(c, 'RequestLimitExceeded', `too many requests from ${key ? `ApiAppKey ${JSON.stringify(key)}` : 'this address'}: try again in ${verdict.retryAfterMs} ms`, 429);
  };
}
