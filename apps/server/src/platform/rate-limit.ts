/**
 * Fixed-window rate limits behind a small interface. The embedded default keeps counters in
 * memory (one process); the cluster mode shares them through Redis.
 */
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { AppError } from '../errors.js';

export interface RateLimitRule {
  /** How many hits are allowed per window. */
  points: number;
  windowSeconds: number;
}

export interface RateLimiter {
  /** Counts `points` hits (default 1) on key; returns 0 when allowed, else the milliseconds to wait. */
  hit(key: string, points?: number): Promise<number>;
}

export type RateLimiterFactory = (name: string, rule: RateLimitRule) => RateLimiter;

export const createMemoryRateLimiter: RateLimiterFactory = (name, rule) => {
  const limiter = new RateLimiterMemory({
    keyPrefix: name,
    points: rule.points,
    duration: rule.windowSeconds,
  });
  return {
    async hit(key, points = 1) {
      try {
        await limiter.consume(key, points);
        return 0;
      } catch (e: unknown) {
        if (e instanceof RateLimiterRes) return Math.max(1, e.msBeforeNext);
        throw e;
      }
    },
  };
};

/** Counts `points` hits on key, or throws RATE_LIMITED ("Too many <what>") with retry_after_ms. */
export async function enforceLimit(
  limiter: RateLimiter,
  key: string,
  what: string,
  points = 1,
): Promise<void> {
  const waitMs = await limiter.hit(key, points);
  if (waitMs > 0) {
    throw new AppError('RATE_LIMITED', `Too many ${what}; try again in ${Math.ceil(waitMs / 1000)} s.`, {
      retry_after_ms: waitMs,
    });
  }
}
