/**
 * A partner's markup, pure arithmetic. A markup is basis points of the operator's unit price
 * plus fixed micros per unit; on a charge of `quantity` units at `unitPriceMicros`:
 *
 *   per unit = round_half_even(unitPriceMicros × bps / 10 000) + micros
 *   charge   = quantity × per unit          (0 for a free event)
 *
 * Rounding happens once per unit, to whole micros (millionths of the major unit), so a
 * charge's markup never depends on how many units it groups. Money is rounded to minor units
 * later, once per invoice line or report row, like the operator's price.
 */

export const BILLING_CATEGORIES = [
  'marketing',
  'utility',
  'authentication',
  'authentication_international',
  'service',
] as const;
export type BillingCategory = (typeof BILLING_CATEGORIES)[number];

export const MAX_MARKUP_BPS = 100_000;
/** 1,000 major units per message: anything above is a typo. */
export const MAX_MARKUP_MICROS = 1_000_000_000n;

export interface Markup {
  markupBps: number;
  markupMicros: bigint;
}

/** Integer division rounding half to even; `den` > 0. */
export function divHalfEven(num: bigint, den: bigint): bigint {
  const negative = num < 0n;
  const n = negative ? -num : num;
  let q = n / den;
  const r2 = (n % den) * 2n;
  if (r2 > den || (r2 === den && q % 2n === 1n)) q += 1n;
  return negative ? -q : q;
}

export function markupPerUnitMicros(unitPriceMicros: bigint, markup: Markup): bigint {
  return divHalfEven(unitPriceMicros * BigInt(markup.markupBps), 10_000n) + markup.markupMicros;
}

/** The partner's markup on one charge, in micros: what the customer pays on top of the operator's price. */
export function chargeMarkupMicros(
  charge: { unitPriceMicros: bigint; quantity: number; billable: boolean },
  markup: Markup | null,
): bigint {
  if (!markup || !charge.billable || charge.quantity <= 0) return 0n;
  return BigInt(charge.quantity) * markupPerUnitMicros(charge.unitPriceMicros, markup);
}
