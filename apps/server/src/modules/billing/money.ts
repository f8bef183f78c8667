/** Money helpers (see contracts): currencies, rounding of micros, largest-remainder splits. */
import { AppError } from '../../errors.js';

export type RoundingMode = 'half_even' | 'half_up' | 'down' | 'up';
export const DEFAULT_ROUNDING: RoundingMode = 'half_even';

const KNOWN = new Set(Intl.supportedValuesOf('currency'));

export function assertCurrency(code: string): void {
  if (!/^[A-Z]{3}$/.test(code) || !KNOWN.has(code)) {
    throw new AppError('BILLING_UNKNOWN_CURRENCY', `"${code}" is not an ISO 4217 currency code.`, {
      currency: code,
    });
  }
}

export function currencyExponent(code: string): number {
  assertCurrency(code);
  return (
    new Intl.NumberFormat('en', { style: 'currency', currency: code }).resolvedOptions()
      .maximumFractionDigits ?? 2
  );
}

export function microsToMinor(micros: bigint, currency: string, mode: RoundingMode): bigint {
  const unit = 10n ** BigInt(6 - currencyExponent(currency));
  const q = micros / unit;
  const r = micros % unit;
  if (r === 0n) return q;
  const negative = micros < 0n;
  const abs = r < 0n ? -r : r;
  const away = negative ? q - 1n : q + 1n;
  switch (mode) {
    case 'down':
      return q;
    case 'up':
      return away;
    case 'half_up':
      return abs * 2n >= unit ? away : q;
    case 'half_even':
      if (abs * 2n > unit) return away;
      if (abs * 2n < unit) return q;
      return q % 2n === 0n ? q : away;
  }
}

export function splitLargestRemainder(total: bigint, weights: bigint[]): bigint[] {
  const sum = weights.reduce((a, b) => a + b, 0n);
  if (sum === 0n) return weights.map((_, i) => (i === 0 ? total : 0n));
  const shares = weights.map((w) => (total * w) / sum);
  let rest = total - shares.reduce((a, b) => a + b, 0n);
  const order = weights
    .map((w, i) => ({ i, r: (total * w) % sum }))
    .sort((a, b) => (b.r > a.r ? 1 : b.r < a.r ? -1 : a.i - b.i));
  for (const { i } of order) {
    if (rest === 0n) break;
    shares[i] = (shares[i] ?? 0n) + 1n;
    rest -= 1n;
  }
  return shares;
}
