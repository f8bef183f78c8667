import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chargeMarkupMicros, divHalfEven, markupPerUnitMicros } from './partners.markup.js';

describe('partner markup arithmetic', () => {
  it('adds basis points of the unit price plus fixed micros per unit', () => {
    // USD 0.0044 per message, 10 % and 0.0005 on top: 440 + 500 micros per unit.
    expect(markupPerUnitMicros(4400n, { markupBps: 1000, markupMicros: 500n })).toBe(940n);
    expect(
      chargeMarkupMicros(
        { unitPriceMicros: 4400n, quantity: 3, billable: true },
        { markupBps: 1000, markupMicros: 500n },
      ),
    ).toBe(2820n);
    // 100,000 bps is ten times the price.
    expect(markupPerUnitMicros(4400n, { markupBps: 100_000, markupMicros: 0n })).toBe(44_000n);
    expect(markupPerUnitMicros(4400n, { markupBps: 0, markupMicros: 0n })).toBe(0n);
  });

  it('rounds each unit half to even, to whole micros', () => {
    // 25 × 2 % = 0.5 → 0; 75 × 2 % = 1.5 → 2; 125 × 2 % = 2.5 → 2; 1 × 1 bps = 0.0001 → 0.
    expect(markupPerUnitMicros(25n, { markupBps: 200, markupMicros: 0n })).toBe(0n);
    expect(markupPerUnitMicros(75n, { markupBps: 200, markupMicros: 0n })).toBe(2n);
    expect(markupPerUnitMicros(125n, { markupBps: 200, markupMicros: 0n })).toBe(2n);
    expect(markupPerUnitMicros(1n, { markupBps: 1, markupMicros: 7n })).toBe(7n);
    expect(divHalfEven(-15n, 10n)).toBe(-2n);
    expect(divHalfEven(-25n, 10n)).toBe(-2n);
  });

  it('charges no markup on free events or without a partner', () => {
    const markup = { markupBps: 1000, markupMicros: 500n };
    expect(chargeMarkupMicros({ unitPriceMicros: 4400n, quantity: 1, billable: false }, markup)).toBe(0n);
    expect(chargeMarkupMicros({ unitPriceMicros: 4400n, quantity: 1, billable: true }, null)).toBe(0n);
  });

  it('a charge of n units costs n times one unit, and rounding stays within half a micro', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10_000_000n }),
        fc.integer({ min: 0, max: 100_000 }),
        fc.bigInt({ min: 0n, max: 1_000_000n }),
        fc.integer({ min: 1, max: 1000 }),
        (unit, bps, micros, quantity) => {
          const markup = { markupBps: bps, markupMicros: micros };
          const one = markupPerUnitMicros(unit, markup);
          expect(chargeMarkupMicros({ unitPriceMicros: unit, quantity, billable: true }, markup)).toBe(
            one * BigInt(quantity),
          );
          // |one − micros − unit × bps / 10 000| ≤ ½, in units of 1/10 000 micro.
          const exact = unit * BigInt(bps);
          const diff = (one - micros) * 10_000n - exact;
          expect(diff <= 5_000n && diff >= -5_000n).toBe(true);
        },
      ),
    );
  });
});
