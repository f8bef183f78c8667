import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BILLING_CATEGORIES } from './pricing-models.js';
import { parseRateCardCsv, rateCardToCsv } from './rate-cards.csv.js';
import { type RateRow, validateRows } from './rate-cards.model.js';

const MARKETS = ['*', 'US', 'BR', 'GB', 'DE', 'IN', 'AR', 'FR', 'JP', 'NG'];

/** Random valid cards: unique (category, market, from_count), tiers only with a base row. */
const cardArb = fc
  .array(
    fc.record({
      category: fc.constantFrom(...BILLING_CATEGORIES),
      market: fc.constantFrom(...MARKETS),
      tiers: fc.uniqueArray(fc.integer({ min: 1, max: 10_000_000 }), { maxLength: 3 }),
      prices: fc.array(fc.bigInt({ min: 0n, max: 10n ** 12n }), { minLength: 4, maxLength: 4 }),
    }),
    { minLength: 1, maxLength: 30 },
  )
  .map((entries) => {
    const seen = new Set<string>();
    const rows: RateRow[] = [];
    for (const e of entries) {
      if (seen.has(`${e.category}|${e.market}`)) continue;
      seen.add(`${e.category}|${e.market}`);
      const tiered = e.category === 'utility' || e.category === 'authentication';
      const froms = [0, ...(tiered ? e.tiers : [])];
      froms.forEach((from, i) => {
        rows.push({
          category: e.category,
          market: e.market,
          fromCount: from,
          unitPriceMicros: e.prices[i] ?? 0n,
        });
      });
    }
    return rows;
  });

function reimport(csv: string): RateRow[] {
  const parsed = parseRateCardCsv(csv);
  expect(parsed.errors).toEqual([]);
  const validated = validateRows(parsed.rows);
  expect(validated.errors).toEqual([]);
  return validated.rows;
}

describe('rate-card CSV', () => {
  it('export → import → export is identical for random valid cards', () => {
    fc.assert(
      fc.property(cardArb, fc.boolean(), (rows, shuffle) => {
        const input = shuffle ? [...rows].reverse() : rows;
        const csv = rateCardToCsv(input);
        const back = reimport(csv);
        expect(rateCardToCsv(back)).toBe(csv);
        expect(
          new Set(back.map((r) => `${r.category}|${r.market}|${r.fromCount}|${r.unitPriceMicros}`)),
        ).toEqual(new Set(rows.map((r) => `${r.category}|${r.market}|${r.fromCount}|${r.unitPriceMicros}`)));
      }),
    );
  });

  it('reads columns in any order, CRLF, a BOM, blank lines and lower-case markets', () => {
    const csv = '\uFEFFmarket,unit_price,category\r\n\r\nus,0.0044,utility\r\n*,1,Marketing\r\n';
    const rows = reimport(csv);
    expect(rows).toEqual([
      { category: 'marketing', market: '*', fromCount: 0, unitPriceMicros: 1_000_000n },
      { category: 'utility', market: 'US', fromCount: 0, unitPriceMicros: 4400n },
    ]);
  });

  it('numbers lines as in the file, blank lines included', () => {
    const parsed = parseRateCardCsv('category,market,unit_price\n\nmarketing,US,0.1\n\nbad,US,0.1\n');
    expect(validateRows(parsed.rows).errors.map((e) => e.line)).toEqual([5]);
  });

  it('reports broken CSV as an error, not an exception', () => {
    const parsed = parseRateCardCsv('category,market,unit_price\n"marketing,US,0.1\n');
    expect(parsed.errors).toHaveLength(1);
  });
});
