/**
 * The few money helpers invoices need, with the signatures of `money.ts` (contracts): integer
 * minor units and micros as bigint, one declared rounding mode. Stands in until `money.ts`
 * lands; then this file re-exports it.
 */
import { AppError } from '../../errors.js';

export type RoundingMode = 'half_even' | 'half_up' | 'down' | 'up';
export const DEFAULT_ROUNDING: RoundingMode = 'half_even';
const MODES: readonly string[] = ['half_even', 'half_up', 'down', 'up'];

export function isRoundingMode(value: string): value is RoundingMode {
  return MODES.includes(value);
}

const exponents = new Map<string, number>();

/** Digits after the decimal point of a currency's minor unit (USD 2, JPY 0, KWD 3). */
export function currencyExponent(code: string): number {
  const known = exponents.get(code);
  if (known !== undefined) return known;
  if (!/^[A-Z]{3}$/.test(code) || !Intl.supportedValuesOf('currency').includes(code)) {
    throw new AppError('VALIDATION_FAILED', `Unknown currency "${code}" (an ISO 4217 code).`, {
      currency: code,
    });
  }
  const digits = new Intl.NumberFormat('en', { style: 'currency', currency: code }).resolvedOptions()
    .maximumFractionDigits;
  const exponent = digits ?? 2;
  exponents.set(code, exponent);
  return exponent;
}

/** `numerator / denominator` rounded by `mode`; denominator > 0. */
export function divRound(numerator: bigint, denominator: bigint, mode: RoundingMode): bigint {
  if (denominator <= 0n) throw new RangeError('denominator must be positive');
  // Floor division first (bigint `/` truncates toward zero).
  let q = numerator / denominator;
  let r = numerator % denominator;
  if (r < 0n) {
    q -= 1n;
    r += denominator;
  }
  if (r === 0n) return q;
  switch (mode) {
    case 'down':
      return numerator < 0n ? q + 1n : q;
    case 'up':
      return numerator < 0n ? q : q + 1n;
    case 'half_up': {
      // Half away from zero.
      const twice = 2n * r;
      if (twice > denominator) return q + 1n;
      if (twice < denominator) return q;
      return numerator < 0n ? q : q + 1n;
    }
    case 'half_even': {
      const twice = 2n * r;
      if (twice > denominator) return q + 1n;
      if (twice < denominator) return q;
      return q % 2n === 0n ? q : q + 1n;
    }
  }
}

/** Micros (millionths of the major unit) to whole minor units of `currency`, rounded once. */
export function microsToMinor(micros: bigint, currency: string, mode: RoundingMode): bigint {
  const exponent = currencyExponent(currency);
  return divRound(micros, 10n ** BigInt(6 - exponent), mode);
}

/** `USD 12.50`, `JPY 1250`, `EUR -0.05`. */
export function formatMoney(minor: bigint, currency: string): string {
  const exponent = currencyExponent(currency);
  const negative = minor < 0n;
  const digits = (negative ? -minor : minor).toString().padStart(exponent + 1, '0');
  const whole = exponent === 0 ? digits : digits.slice(0, -exponent);
  const fraction = exponent === 0 ? '' : `.${digits.slice(-exponent)}`;
  return `${currency} ${negative ? '-' : ''}${whole}${fraction}`;
}

/** Micros as a decimal of the major unit (4400 → `0.0044`), for unit prices. */
export function formatMicros(micros: bigint): string {
  const negative = micros < 0n;
  const digits = (negative ? -micros : micros).toString().padStart(7, '0');
  const fraction = digits.slice(-6).replace(/0+$/, '');
  return `${negative ? '-' : ''}${digits.slice(0, -6)}${fraction ? `.${fraction}` : ''}`;
}
