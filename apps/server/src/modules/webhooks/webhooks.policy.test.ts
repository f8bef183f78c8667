import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  afterFailure,
  callbackUrlProblem,
  RETRY_BASE_MS,
  RETRY_CAP_MS,
  RETRY_WINDOW_MS,
  retryDelay,
} from './webhooks.policy.js';

describe('webhook retry policy', () => {
  it('doubles from 5 s with jitter between half and all of the step, capped at 1 h', () => {
    expect(retryDelay(1, 0)).toBe(RETRY_BASE_MS / 2);
    expect(retryDelay(1, 0.999999)).toBe(RETRY_BASE_MS - 1);
    expect(retryDelay(2, 0)).toBe(RETRY_BASE_MS);
    expect(retryDelay(3, 0)).toBe(2 * RETRY_BASE_MS);
    expect(retryDelay(40, 0.999999)).toBeLessThan(RETRY_CAP_MS);
    expect(retryDelay(40, 0)).toBe(RETRY_CAP_MS / 2);
    expect(retryDelay(1, 0.9999999999999998)).toBe(RETRY_BASE_MS - 1);
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (n, r) => {
          const d = retryDelay(n, r);
          const step = Math.min(RETRY_CAP_MS, RETRY_BASE_MS * 2 ** Math.min(n - 1, 30));
          expect(d).toBeGreaterThanOrEqual(Math.floor(step / 2));
          expect(d).toBeLessThan(step);
          expect(retryDelay(n + 1, r)).toBeGreaterThanOrEqual(d);
        },
      ),
    );
  });

  it('retries within 7 days of the first attempt, tries once at the deadline, then dead-letters', () => {
    const first = 1_000_000;
    expect(afterFailure({ failures: 1, firstAttemptAt: first, now: first, random: 0 })).toEqual({
      state: 'pending',
      nextAttemptAt: first + RETRY_BASE_MS / 2,
    });
    const late = first + RETRY_WINDOW_MS - 1000;
    expect(afterFailure({ failures: 150, firstAttemptAt: first, now: late, random: 0.5 })).toEqual({
      state: 'pending',
      nextAttemptAt: first + RETRY_WINDOW_MS,
    });
    expect(
      afterFailure({ failures: 151, firstAttemptAt: first, now: first + RETRY_WINDOW_MS, random: 0.5 }),
    ).toEqual({ state: 'failed' });
  });

  it('a receiver down for good is tried about 170 times over the 7 days, never after them', () => {
    const first = 0;
    let now = first;
    let failures = 0;
    for (;;) {
      failures++;
      const next = afterFailure({ failures, firstAttemptAt: first, now, random: 0.5 });
      if (next.state === 'failed') break;
      expect(next.nextAttemptAt).toBeGreaterThan(now);
      expect(next.nextAttemptAt).toBeLessThanOrEqual(first + RETRY_WINDOW_MS);
      now = next.nextAttemptAt;
    }
    expect(now).toBe(first + RETRY_WINDOW_MS);
    expect(failures).toBeGreaterThan(150);
    expect(failures).toBeLessThan(300);
  });

  it('accepts http and https callback URLs only', () => {
    expect(callbackUrlProblem('https://example.com/hook')).toBeUndefined();
    expect(callbackUrlProblem('http://127.0.0.1:8080/hook')).toBeUndefined();
    expect(callbackUrlProblem('ftp://example.com/hook')).toMatch(/http or https/);
    expect(callbackUrlProblem('not a url')).toMatch(/not a valid URL/);
    expect(callbackUrlProblem('https://u:p@example.com/')).toMatch(/credentials/);
  });
});
