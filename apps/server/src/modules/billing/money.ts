/**
 * Money arithmetic. Amounts are integer minor units of an ISO 4217 currency (`bigint`), unit
 * prices are integer micros (millionths of the major unit, so USD 0.0044 = 4400n). Nothing
 * here uses floating point: decimal strings are parsed digit by digit, and rounding is
 * explicit and done once, where micros become minor units.
 */
import { AppError } from '../../errors.js';

export type RoundingMode = 'half_even' | 'half_up' | 'down' | 'up';
export const DEFAULT_ROUNDING: RoundingMode = 'half_even';
export const ROUNDING_MODES: readonly RoundingMode[] = ['half_even', 'half_up', 'down', 'up'];

export function isRoundingMode(value: string): value is RoundingMode {
  return (ROUNDING_MODES as readonly string[]).includes(value);
}

/** Micros per major unit. */
export const MICROS_PER_UNIT = 1_000_000n;
const MICROS_DIGITS = 6;
const INT64_MAX = 2n ** 63n - 1n;

/*
 * Memo of the currency facts Intl knows; built on first use and never changed afterwards, so
 * it is a cache of a pure function rather than state.
 */
let knownCurrencies: ReadonlySet<string> | undefined;
const exponents = new Map<string, number>();

export function isCurrency(code: string): boolean {
  knownCurrencies ??= new Set(Intl.supportedValuesOf('currency'));
  return knownCurrencies.has(code);
}

export function assertCurrency(code: string): void {
  if (typeof code !== 'string' || !isCurrency(code)) {
    throw new AppError('BILLING_UNKNOWN_CURRENCY', `Unknown currency: ${String(code)}`, {
      currency: code,
    });
  }
}

/** How many decimals the currency's minor unit has (USD 2, JPY 0, BHD 3). */
export function currencyExponent(code: string): number {
  const cached = exponents.get(code);
  if (cached !== undefined) return cached;
  assertCurrency(code);
  const digits = new Intl.NumberFormat('en', { style: 'currency', currency: code }).resolvedOptions()
    .maximumFractionDigits;
  const exponent = digits ?? 2;
  exponents.set(code, exponent);
  return exponent;
}

/**
 * `numerator / denominator` rounded to an integer. `down` truncates toward zero, `up` rounds
 * away from zero, `half_up` rounds halves away from zero, `half_even` rounds halves to the
 * even neighbour (banker's rounding). Works for negative numerators (credits).
 */
export function divideRounded(numerator: bigint, denominator: bigint, mode: RoundingMode): bigint {
  if (denominator <= 0n) throw new RangeError('denominator must be positive');
  const negative = numerator < 0n;
  const abs = negative ? -numerator : numerator;
  let q = abs / denominator;
  const r = abs % denominator;
  if (r !== 0n) {
    const twice = r * 2n;
    switch (mode) {
      case 'down':
        break;
      case 'up':
        q += 1n;
        break;
      case 'half_up':
        if (twice >= denominator) q += 1n;
        break;
      case 'half_even':
        if (twice > denominator || (twice === denominator && q % 2n === 1n)) q += 1n;
        break;
    }
  }
  return negative ? -q : q;
}

/** Micros of `currency` as minor units, rounded once with `mode`. */
export function microsToMinor(micros: bigint, currency: string, mode: RoundingMode): bigint {
  const exponent = currencyExponent(currency);
  if (exponent >= MICROS_DIGITS) return micros * 10n ** BigInt(exponent - MICROS_DIGITS);
  return divideRounded(micros, 10n ** BigInt(MICROS_DIGITS - exponent), mode);
}

/** Minor units of `currency` as micros (exact). */
export function minorToMicros(minor: bigint, currency: string): bigint {
  const exponent = currencyExponent(currency);
  if (exponent <= MICROS_DIGITS) return minor * 10n ** BigInt(MICROS_DIGITS - exponent);
  return minor / 10n ** BigInt(exponent - MICROS_DIGITS);
}

function invalidAmount(value: unknown, why: string): AppError {
  return new AppError('BILLING_INVALID_AMOUNT', `Invalid amount: ${why}`, {
    value: typeof value === 'bigint' ? value.toString() : value,
  });
}

/**
 * A whole number of minor units ≥ 0, from JSON: a decimal string of digits (`"1250"`) or a
 * safe integer. Fractions, signs, exponents, floats and values beyond int64 are refused.
 */
export function parseAmountMinor(value: unknown): bigint {
  let parsed: bigint;
  if (typeof value === 'string') {
    if (!/^(0|[1-9][0-9]*)$/.test(value))
      throw invalidAmount(value, 'expected a whole number of minor units ≥ 0');
    parsed = BigInt(value);
  } else if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw invalidAmount(value, 'expected a whole number of minor units ≥ 0');
    }
    parsed = BigInt(value);
  } else if (typeof value === 'bigint') {
    if (value < 0n) throw invalidAmount(value, 'expected a whole number of minor units ≥ 0');
    parsed = value;
  } else {
    throw invalidAmount(value, 'expected a string of digits');
  }
  if (parsed > INT64_MAX) throw invalidAmount(value, 'too large');
  return parsed;
}

/** Like `parseAmountMinor`, but the amount must be > 0. */
export function parsePositiveAmount(value: unknown): bigint {
  const parsed = parseAmountMinor(value);
  if (parsed === 0n) throw invalidAmount(value, 'must be greater than zero');
  return parsed;
}

/**
 * Splits `total` into shares proportional to `weights` that sum exactly to `total`: each share
 * is first rounded toward zero, then the units left over go one each to the shares with the
 * largest remainders (ties: the earlier share). Weights must be ≥ 0; when they are all zero
 * the total is split evenly.
 */
export function splitLargestRemainder(total: bigint, weights: bigint[]): bigint[] {
  if (weights.length === 0) throw new RangeError('splitLargestRemainder needs at least one weight');
  if (weights.some((w) => w < 0n)) throw new RangeError('weights must be ≥ 0');
  let effective = weights;
  let sum = weights.reduce((a, b) => a + b, 0n);
  if (sum === 0n) {
    effective = weights.map(() => 1n);
    sum = BigInt(weights.length);
  }
  const negative = total < 0n;
  const abs = negative ? -total : total;
  const shares = effective.map((w) => (abs * w) / sum);
  const remainders = effective.map((w, i) => ({ i, r: (abs * w) % sum }));
  let left = abs - shares.reduce((a, b) => a + b, 0n);
  remainders.sort((a, b) => (a.r === b.r ? a.i - b.i : a.r > b.r ? -1 : 1));
  for (const { i } of remainders) {
    if (left === 0n) break;
    shares[i] = (shares[i] ?? 0n) + 1n;
    left -= 1n;
  }
  return negative ? shares.map((s) => -s) : shares;
}

function formatScaled(value: bigint, digits: number): string {
  const negative = value < 0n;
  const abs = (negative ? -value : value).toString().padStart(digits + 1, '0');
  const whole = digits === 0 ? abs : abs.slice(0, -digits);
  const fraction = digits === 0 ? '' : `.${abs.slice(-digits)}`;
  return `${negative ? '-' : ''}${whole}${fraction}`;
}

/** `USD 12.50`, `JPY 1250`, `USD -0.05`. */
export function formatMoney(minor: bigint, currency: string): string {
  return `${currency} ${formatScaled(minor, currencyExponent(currency))}`;
}

/**
 * A decimal string in the major unit (`"0.0044"`, `"12"`, `"0.05"`) as micros, exactly. At
 * most 6 decimals; no sign, exponent or grouping. Returns undefined when the text is not such
 * a number, so callers can report it in their own terms.
 */
export function parseMajorToMicros(text: string): bigint | undefined {
  const match = /^([0-9]+)(?:\.([0-9]{1,6}))?$/.exec(text);
  if (!match) return undefined;
  const whole = BigInt(match[1] ?? '0');
  const fraction = BigInt((match[2] ?? '').padEnd(MICROS_DIGITS, '0'));
  const micros = whole * MICROS_PER_UNIT + fraction;
  return micros > INT64_MAX ? undefined : micros;
}

/** Micros as the shortest exact decimal string in the major unit: 4400n → `"0.0044"`, 1000000n → `"1"`. */
export function formatMicros(micros: bigint): string {
  const text = formatScaled(micros, MICROS_DIGITS);
  return text.includes('.') ? text.replace(/0+$/, '').replace(/\.$/, '') : text;
}
