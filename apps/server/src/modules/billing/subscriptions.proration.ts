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

/**
 * Shares of `total` proportional to `weights` (≥ 0, not all 0), summing to `total`: each gets
 * the floor of its exact share, and the units left over go to the largest remainders (ties to
 * the earlier weight). Same semantics as money.ts `splitLargestRemainder`.
 */
export function splitLargestRemainder(total: bigint, weights: bigint[]): bigint[] {
  const sum = weights.reduce((a, b) => a + b, 0n);
  if (sum <= 0n) throw new RangeError('weights must have a positive sum');
  const shares = weights.map((w) => (total * w) / sum);
  const remainders = weights.map((w, i) => ({ i, r: (total * w) % sum }));
  let left = total - shares.reduce((a, b) => a + b, 0n);
  remainders.sort((a, b) => (a.r === b.r ? a.i - b.i : a.r > b.r ? -1 : 1));
  for (const { i } of remainders) {
    if (left <= 0n) break;
    shares[i] = (shares[i] ?? 0n) + 1n;
    left -= 1n;
  }
  return shares;
}

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
