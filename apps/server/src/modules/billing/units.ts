/**
 * Micros (millionths of a currency's major unit, the unit of rate-card prices) and minor
 * units (the unit money moves in).
 */
import { currencyExponent } from './money.js';

/** How many micros make one minor unit: 10,000 for USD (2 decimals), 1,000,000 for JPY. */
export function microsPerMinor(currency: string): bigint {
  return 10n ** BigInt(6 - currencyExponent(currency));
}

export { splitLargestRemainder } from './money.js';
