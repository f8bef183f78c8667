/**
 * Exponential backoff with full jitter: attempt n waits a uniform random time in
 * [min, min(max, min·2ⁿ)]. Jitter spreads out clients that lost the same server at the same
 * moment, so they do not all come back in one burst; the floor keeps a flapping link from
 * spinning.
 */

export interface BackoffOptions {
  minDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { minDelayMs: 250, maxDelayMs: 30_000 };

/** The delay before retry number `attempt` (0-based). `random` returns a value in [0, 1). */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions,
  random: () => number = Math.random,
): number {
  const min = Math.max(0, options.minDelayMs);
  const max = Math.max(min, options.maxDelayMs);
  // Cap the exponent: 2^31 already exceeds any sane max, and larger values overflow to Infinity.
  const ceiling = Math.min(max, min * 2 ** Math.min(Math.max(0, attempt), 31));
  return Math.round(min + random() * (ceiling - min));
}

export interface Backoff {
  /** The delay for the next attempt; each call counts as one more attempt. */
  next(): number;
  /** Start again from the shortest delay, e.g. after a successful connection. */
  reset(): void;
}

export function createBackoff(options: BackoffOptions, random: () => number = Math.random): Backoff {
  let attempt = 0;
  return {
    next: () => backoffDelay(attempt++, options, random),
    reset() {
      attempt = 0;
    },
  };
}
