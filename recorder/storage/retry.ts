// Calls to a cloud store are tried again when the failure may pass (5xx, 429, a timeout, a dropped
// connection), with back-off; a refusal (403, a bad request) fails at once.

export type RetryPolicy = { tries: number; firstDelayMs: number; maxDelayMs: number };

export const UPLOAD_RETRIES: RetryPolicy = { tries: 5, firstDelayMs: 500, maxDelayMs: 8000 };

const PASSING_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'ESOCKETTIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_SOCKET']);

/** Whether a store's error may pass if tried again. */
export function mayPass(err: unknown): boolean {
  const e = err as { statusCode?: number; code?: string; error?: { code?: string; Code?: string }; message?: string } | null;
  if (!e) return false;
  const status = e.statusCode;
  if (typeof status === 'number' && status > 0) return status >= 500 || status === 429;
  const code = e.code ?? e.error?.code ?? '';
  if (PASSING_CODES.has(code)) return true;
  // The COS SDK names a timeout and a network failure in its message.
  return /timeout|timed out|socket hang up|network|ECONN/i.test(e.message ?? '');
}

/** Runs `fn` until it succeeds, a failure will not pass, or the tries are used up (the last error). */
export async function withRetries<T>(fn: () => Promise<T>, policy: RetryPolicy = UPLOAD_RETRIES, onRetry?: (err: unknown, tryNumber: number) => void): Promise<T> {
  let delay = policy.firstDelayMs;
  for (let tryNumber = 1; ; tryNumber++) {
    try {
      return await fn();
    } catch (err) {
      if (tryNumber >= policy.tries || !mayPass(err)) throw err;
      onRetry?.(err, tryNumber);
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(policy.maxDelayMs, delay * 2);
    }
  }
}

/** A store error in one line: its status and code, never a credential. */
export function describeStoreError(err: unknown): string {
  const e = err as { statusCode?: number; code?: string; message?: string; error?: { Code?: string; Message?: string } };
  const code = e?.error?.Code ?? e?.code;
  const message = e?.error?.Message ?? e?.message ?? String(err);
  return [e?.statusCode ? `HTTP ${e.statusCode}` : null, code, message].filter(Boolean).join(' ');
}
