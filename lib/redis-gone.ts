// Shutting down without Redis: whatever waits on an unreachable Redis (an event to send, a lease to
// hand back, a blocking read) would wait out every bound of the shutdown. Closing the connections
// does not help: ioredis leaves a connection that is between reconnect attempts "reconnecting" for
// good, its queued commands neither sent nor failed (redis/ioredis#2169). So the waits themselves
// stop once Redis has been unreachable for a while.
import type { RedisClient } from './redis-connect.js';

/** How long Redis may be unreachable during a shutdown before nothing waits for it any more. */
export const REDIS_GONE_AFTER_MS = 3000;
const CHECK_EVERY_MS = 250;

/** Resolves `gone` once `conn` has not been ready for `afterMs` in a row (until cancelled). */
export function whenRedisGone(conn: RedisClient, afterMs = REDIS_GONE_AFTER_MS): { gone: Promise<void>; cancel(): void } {
  let timer: NodeJS.Timeout | undefined;
  const gone = new Promise<void>((resolve) => {
    let downSince: number | null = null;
    timer = setInterval(() => {
      if (conn.status === 'ready') {
        downSince = null;
        return;
      }
      downSince ??= Date.now();
      if (Date.now() - downSince < afterMs) return;
      clearInterval(timer);
      resolve();
    }, CHECK_EVERY_MS);
    timer.unref();
  });
  return { gone, cancel: () => clearInterval(timer) };
}

/** `p`, or a rejection as soon as `signal` aborts (without leaving a listener behind either way). */
export function unlessAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
