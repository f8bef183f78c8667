import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../errors.js';
import {
  currencyExponent,
  divideRounded,
  formatMicros,
  formatMoney,
  microsToMinor,
  parseAmountMinor,
  parseMajorToMicros,
  parsePositiveAmount,
  splitLargestRemainder,
} from './money.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e: unknown) {
    return e instanceof AppError ? e.code : 'not-app-error';
  }
  return undefined;
}

describe('currencies', () => {
  it('knows each currency’s minor unit', () => {
    expect(currencyExponent('USD')).toBe(2);
    expect(currencyExponent('JPY')).toBe(0);
    expect(currencyExponent('BHD')).toBe(3);
  });
  it('refuses unknown codes', () => {
    expect(codeOf(() => currencyExponent('XYZ'))).toBe('BILLING_UNKNOWN_CURRENCY');
    expect(codeOf(() => currencyExponent('usd'))).toBe('BILLING_UNKNOWN_CURRENCY');
  });
});

describe('microsToMinor', () => {
  it.each([
    // micros, currency, mode, minor
    [4400n, 'USD', 'half_even', 0n],
    [5000n, 'USD', 'half_even', 0n],
    [15000n, 'USD', 'half_even', 2n],
    [25000n, 'USD', 'half_even', 2n],
    [25000n, 'USD', 'half_up', 3n],
    [25001n, 'USD', 'half_even', 3n],
    [10001n, 'USD', 'down', 1n],
    [10001n, 'USD', 'up', 2n],
    [-25000n, 'USD', 'half_up', -3n],
    [-15000n, 'USD', 'half_even', -2n],
    [-10001n, 'USD', 'down', -1n],
    [1_500_000n, 'JPY', 'half_even', 2n],
    [12_345_678n, 'BHD', 'down', 12_345n],
    [12_500_000n, 'USD', 'half_even', 1250n],
  ] as const)('%s micros %s %s → %s', (micros, currency, mode, minor) => {
    expect(microsToMinor(micros, currency, mode)).toBe(minor);
  });

  it('never strays more than one unit from the exact value, and half_even has no bias', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 15n), max: 10n ** 15n }), (n) => {
        for (const mode of ['half_even', 'half_up', 'down', 'up'] as const) {
          const q = divideRounded(n, 10_000n, mode);
          const diff = n - q * 10_000n;
          expect(diff < 10_000n && diff > -10_000n).toBe(true);
        }
      }),
    );
  });
});

describe('parseAmountMinor', () => {
  it('accepts whole minor units as strings or safe integers', () => {
    expect(parseAmountMinor('1250')).toBe(1250n);
    expect(parseAmountMinor('0')).toBe(0n);
    expect(parseAmountMinor(42)).toBe(42n);
    expect(parseAmountMinor('9223372036854775807')).toBe(2n ** 63n - 1n);
  });
  it.each([
    ['-1'],
    ['12.5'],
    ['1e3'],
    [''],
    [' 1'],
    ['01'],
    [-1],
    [1.5],
    [Number.NaN],
    [null],
    [{}],
    ['9223372036854775808'],
  ])('refuses %j', (value) => {
    expect(codeOf(() => parseAmountMinor(value))).toBe('BILLING_INVALID_AMOUNT');
  });
  it('parsePositiveAmount refuses zero', () => {
    expect(codeOf(() => parsePositiveAmount('0'))).toBe('BILLING_INVALID_AMOUNT');
    expect(parsePositiveAmount('1')).toBe(1n);
  });
});

describe('splitLargestRemainder', () => {
  it('splits by weight and gives leftovers to the largest remainders', () => {
    expect(splitLargestRemainder(100n, [1n, 1n, 1n])).toEqual([34n, 33n, 33n]);
    expect(splitLargestRemainder(10n, [3n, 7n])).toEqual([3n, 7n]);
    expect(splitLargestRemainder(5n, [0n, 0n])).toEqual([3n, 2n]);
    expect(splitLargestRemainder(-100n, [1n, 2n])).toEqual([-33n, -67n]);
  });
  it('always sums to the total, each share within one unit of its exact part', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(10n ** 12n), max: 10n ** 12n }),
        fc.array(fc.bigInt({ min: 0n, max: 10n ** 9n }), { minLength: 1, maxLength: 20 }),
        (total, weights) => {
          const shares = splitLargestRemainder(total, weights);
          expect(shares.reduce((a, b) => a + b, 0n)).toBe(total);
          const sum = weights.reduce((a, b) => a + b, 0n);
          if (sum > 0n) {
            shares.forEach((s, i) => {
              const exactTimesSum = total * (weights[i] ?? 0n);
              const d = s * sum - exactTimesSum;
              expect(d < sum && d > -sum).toBe(true);
            });
          }
        },
      ),
    );
  });
});

describe('formatting and decimal parsing', () => {
  it('formats money in the currency’s minor unit', () => {
    expect(formatMoney(1250n, 'USD')).toBe('USD 12.50');
    expect(formatMoney(5n, 'USD')).toBe('USD 0.05');
    expect(formatMoney(-5n, 'USD')).toBe('USD -0.05');
    expect(formatMoney(1250n, 'JPY')).toBe('JPY 1250');
    expect(formatMoney(1n, 'BHD')).toBe('BHD 0.001');
  });
  it('parses major-unit decimals into micros exactly', () => {
    expect(parseMajorToMicros('0.0044')).toBe(4400n);
    expect(parseMajorToMicros('0.1')).toBe(100_000n);
    expect(parseMajorToMicros('12')).toBe(12_000_000n);
    expect(parseMajorToMicros('0.000001')).toBe(1n);
    for (const bad of ['0.0000001', '-1', '1e-3', '.5', '1.', '', '1,5', ' 1']) {
      expect(parseMajorToMicros(bad)).toBeUndefined();
    }
  });
  it('formats micros back to the same decimal', () => {
    expect(formatMicros(4400n)).toBe('0.0044');
    expect(formatMicros(1_000_000n)).toBe('1');
    expect(formatMicros(0n)).toBe('0');
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 15n }), (m) => {
        expect(parseMajorToMicros(formatMicros(m))).toBe(m);
      }),
    );
  });
});
