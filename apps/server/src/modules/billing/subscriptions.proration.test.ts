import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { periodAt, prorate, splitLargestRemainder } from './subscriptions.proration.js';

describe('proration', () => {
  it('months are UTC calendar months', () => {
    expect(periodAt(Date.UTC(2026, 1, 15, 12))).toEqual({
      start: Date.UTC(2026, 1, 1),
      end: Date.UTC(2026, 2, 1),
      label: '2026-02',
    });
    expect(periodAt(Date.UTC(2026, 11, 31, 23, 59, 59, 999)).label).toBe('2026-12');
    expect(periodAt(Date.UTC(2027, 0, 1)).label).toBe('2027-01');
  });

  it('the rest of a 30-day month from the 16th is half its price', () => {
    const april = periodAt(Date.UTC(2026, 3, 10));
    expect(prorate(1500n, april, Date.UTC(2026, 3, 16))).toEqual({ used: 750n, rest: 750n });
    expect(prorate(1500n, april, april.start)).toEqual({ used: 0n, rest: 1500n });
    expect(prorate(1500n, april, april.end)).toEqual({ used: 1500n, rest: 0n });
  });

  it('the parts of a period always sum to its price (property)', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 12n }),
        fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2100, 0, 1) }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (price, t, f) => {
          const p = periodAt(t);
          const at = p.start + Math.floor((p.end - p.start) * f);
          const { used, rest } = prorate(price, p, at);
          expect(used + rest).toBe(price);
          expect(used >= 0n && rest >= 0n).toBe(true);
        },
      ),
    );
  });

  it('a plan changed several times in a period: credits and charges net to the prices used (property)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(fc.bigInt({ min: 0n, max: 100_000n }), fc.double({ min: 0, max: 1, noNaN: true })),
          {
            minLength: 1,
            maxLength: 6,
          },
        ),
        (changes) => {
          const p = periodAt(Date.UTC(2026, 1, 10));
          const times = changes
            .map(([, f]) => p.start + Math.floor((p.end - p.start) * f))
            .sort((a, b) => a - b);
          // Subscribe at times[0] to the first price; change at each later time.
          let net = 0n;
          const prices = changes.map(([price]) => price);
          for (let i = 0; i < times.length; i++) {
            const at = times[i] ?? 0;
            if (i > 0) net -= prorate(prices[i - 1] ?? 0n, p, at).rest;
            net += prorate(prices[i] ?? 0n, p, at).rest;
          }
          // Each plan's proportional share of its time, never more than its price.
          expect(net >= 0n).toBe(true);
          let max = 0n;
          for (const price of prices) if (price > max) max = price;
          expect(net <= max).toBe(true);
        },
      ),
    );
  });

  it('largest-remainder shares sum to the total (property)', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 15n }),
        fc.array(fc.bigInt({ min: 0n, max: 10n ** 9n }), { minLength: 1, maxLength: 10 }),
        (total, weights) => {
          fc.pre(weights.some((w) => w > 0n));
          const shares = splitLargestRemainder(total, weights);
          expect(shares.reduce((a, b) => a + b, 0n)).toBe(total);
          expect(shares.every((s) => s >= 0n)).toBe(true);
        },
      ),
    );
  });
});
