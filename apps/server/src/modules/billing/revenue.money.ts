/**
 * Micros to minor units, half to even: the rounding of report rows. The same arithmetic as
 * `microsToMinor(…, 'half_even')` of money.ts, kept here so reports do not wait on it.
 */
import { AppError } from '../../errors.js';
import { divHalfEven } from './partners.markup.js';

const exponents = new Map<string, number>();

export function currencyExponentOf(currency: string): number {
  let exponent = exponents.get(currency);
  if (exponent === undefined) {
    if (!/^[A-Z]{3}$/.test(currency) || !Intl.supportedValuesOf('currency').includes(currency)) {
      throw new AppError('VALIDATION_FAILED', `Unknown currency "${currency}".`);
    }
    exponent = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions()
      .maximumFractionDigits as number;
    exponents.set(currency, exponent);
  }
  return exponent;
}

export function microsToMinorHalfEven(micros: bigint, currency: string): bigint {
  return divHalfEven(micros, 10n ** BigInt(6 - currencyExponentOf(currency)));
}
