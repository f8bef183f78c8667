import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { currencyExponent, divRound, formatMicros, formatMoney, microsToMinor } from './invoices.money.js';

describe('invoice money helpers', () => {
  it('knows currency exponents and refuses unknown codes', () => {
    expect(currencyExponent('USD')).toBe(2);
    expect(currencyExponent('JPY')).toBe(0);
    expect(currencyExponent('KWD')).toBe(3);
    expect(() => currencyExponent('XYZ')).toThrow(/Unknown currency/);
  });

  it('rounds micros to minor units half-even by default', () => {
    expect(microsToMinor(4400n, 'USD', 'half_even')).toBe(0n);
    expect(microsToMinor(5000n, 'USD', 'half_even')).toBe(0n);
    expect(microsToMinor(15000n, 'USD', 'half_even')).toBe(2n);
    expect(microsToMinor(25000n, 'USD', 'half_even')).toBe(2n);
    expect(microsToMinor(25000n, 'USD', 'half_up')).toBe(3n);
    expect(microsToMinor(25001n, 'USD', 'down')).toBe(2n);
    expect(microsToMinor(20001n, 'USD', 'up')).toBe(3n);
    expect(microsToMinor(1_500_000n, 'JPY', 'half_even')).toBe(2n);
  });

  it('never moves a value by more than half a unit (half modes) or one unit (directed modes)', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(10n ** 12n), max: 10n ** 12n }),
        fc.bigInt({ min: 1n, max: 10n ** 6n }),
        (n, d) => {
          for (const mode of ['half_even', 'half_up'] as const) {
            const q = divRound(n, d, mode);
            const diff = q * d - n;
            expect(2n * (diff < 0n ? -diff : diff) <= d).toBe(true);
          }
          expect(divRound(n, d, 'down') * d <= n || n < 0n).toBe(true);
          expect(divRound(n, d, 'up') * d >= n || n < 0n).toBe(true);
        },
      ),
    );
  });

  it('formats amounts and unit prices', () => {
    expect(formatMoney(1250n, 'USD')).toBe('USD 12.50');
    expect(formatMoney(5n, 'EUR')).toBe('EUR 0.05');
    expect(formatMoney(-5n, 'EUR')).toBe('EUR -0.05');
    expect(formatMoney(1250n, 'JPY')).toBe('JPY 1250');
    expect(formatMicros(4400n)).toBe('0.0044');
    expect(formatMicros(1_250_000n)).toBe('1.25');
    expect(formatMicros(0n)).toBe('0');
  });
});
