/** Formatting of minor units for people (`USD 12.50`). */
import { assertCurrency, currencyExponent } from './money.js';

export { assertCurrency, currencyExponent };

export function formatMinor(minor: bigint, currency: string): string {
  const exp = currencyExponent(currency);
  const negative = minor < 0n;
  const abs = negative ? -minor : minor;
  const unit = 10n ** BigInt(exp);
  const whole = abs / unit;
  const frac = exp > 0 ? `.${(abs % unit).toString().padStart(exp, '0')}` : '';
  return `${negative ? '-' : ''}${currency} ${whole}${frac}`;
}
