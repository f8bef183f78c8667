/**
 * Billing periods and proration. A subscription is billed per calendar month in UTC
 * ([first instant of the month, first instant of the next)), so every business renews at the
 * same month end and a month's invoice holds exactly one period's fees.
 *
 * Proration is by whole seconds: a period's price is split between the part before `at` and
 * the part from `at` to the end with largest remainder, so the two parts always sum to the
 * period's price (no minor unit is created or lost however often a plan changes).
 */

export interface Period {
  start: number;
  end: number;
  /** `YYYY-MM`. */
  label: string;
}

export function periodAt(at: number): Period {
  const d = new Date(at);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  return {
    start: Date.UTC(y, m, 1),
    end: Date.UTC(y, m + 1, 1),
    label: `${y}-${String(m + 1).padStart(2, '0')}`,
  };
}

import { splitLargestRemainder } from './money.js';

export { splitLargestRemainder };

/** The price of a period split at `at`: what [start, at) costs and what [at, end) costs. */
export function prorate(
  price: bigint,
  period: Pick<Period, 'start' | 'end'>,
  at: number,
): { used: bigint; rest: bigint } {
  const total = BigInt(Math.floor((period.end - period.start) / 1000));
  const clamped = Math.min(Math.max(at, period.start), period.end);
  const used = BigInt(Math.floor((clamped - period.start) / 1000));
  if (total <= 0n) return { used: price, rest: 0n };
  const [u = 0n, r = 0n] = splitLargestRemainder(price, [used, total - used]);
  return { used: u, rest: r };
}
