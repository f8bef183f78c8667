import { describe, expect, it } from 'vitest';
import { backoffDelay, createBackoff, DEFAULT_BACKOFF } from './backoff.js';

describe('backoffDelay', () => {
  it('never goes below the minimum or above the maximum', () => {
    for (let attempt = 0; attempt < 40; attempt++) {
      for (const r of [0, 0.25, 0.5, 0.999999]) {
        const delay = backoffDelay(attempt, DEFAULT_BACKOFF, () => r);
        expect(delay).toBeGreaterThanOrEqual(250);
        expect(delay).toBeLessThanOrEqual(30_000);
      }
    }
  });

  it('doubles the ceiling per attempt until the maximum', () => {
    const top = (attempt: number) => backoffDelay(attempt, DEFAULT_BACKOFF, () => 1);
    expect([0, 1, 2, 3].map(top)).toEqual([250, 500, 1000, 2000]);
    expect(top(7)).toBe(30_000);
    expect(top(1000)).toBe(30_000);
  });

  it('spreads delays across the whole range (full jitter)', () => {
    expect(backoffDelay(5, DEFAULT_BACKOFF, () => 0)).toBe(250);
    expect(backoffDelay(5, DEFAULT_BACKOFF, () => 0.5)).toBe(250 + (8000 - 250) / 2);
  });
});

describe('createBackoff', () => {
  it('grows with each attempt and starts over after reset', () => {
    const backoff = createBackoff({ minDelayMs: 100, maxDelayMs: 1000 }, () => 1);
    expect([backoff.next(), backoff.next(), backoff.next(), backoff.next(), backoff.next()]).toEqual([
      100, 200, 400, 800, 1000,
    ]);
    backoff.reset();
    expect(backoff.next()).toBe(100);
  });
});
