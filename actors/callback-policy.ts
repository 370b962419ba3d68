// How the finished-task webhook is retried: API.md asks for at least 5 tries over at least 2 minutes.
export type CallbackPolicy = {
  maxTries: number;
  /** Delay before the second try; each later delay doubles. */
  firstRetryDelayMs: number;
  /** Per-try HTTP timeout. */
  timeoutMs: number;
  /** Extra wait past the timeout before a try whose result never came back is tried again. */
  watchdogSlackMs: number;
};

// Tries at 0 s, 10 s, 30 s, 70 s and 150 s: five tries spread over two and a half minutes.
export const DEFAULT_CALLBACK_POLICY: CallbackPolicy = {
  maxTries: 5,
  firstRetryDelayMs: 10_000,
  timeoutMs: 10_000,
  watchdogSlackMs: 5_000,
};

/** Delay after the given failed try (1-based) before the next one. */
export function retryDelayMs(policy: CallbackPolicy, failedTry: number): number {
  return policy.firstRetryDelayMs * 2 ** (failedTry - 1);
}
