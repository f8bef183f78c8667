/** SQL of tax rates. */
import type { Selectable } from 'kysely';
import type { Executor } from '../../platform/db.js';
import type { TaxRatesTable } from '../../platform/schema.js';

export type TaxRateRow = Selectable<TaxRatesTable>;

export function createTaxRepo(db: Executor) {
  return {
    async all(tx: Executor = db): Promise<TaxRateRow[]> {
      return tx.selectFrom('tax_rates').selectAll().orderBy('country').orderBy('effective_from').execute();
    },
    /** Per country, the rate in force at `at` (the latest one effective at or before it). */
    async inForce(countries: string[], at: number, tx: Executor = db): Promise<TaxRateRow[]> {
      if (countries.length === 0) return [];
      return tx
        .selectFrom('tax_rates as t')
        .selectAll('t')
        .where('t.country', 'in', countries)
        .where('t.effective_from', '<=', at)
        .where(({ not, exists, selectFrom }) =>
          not(
            exists(
              selectFrom('tax_rates as later')
                .select('later.country')
                .whereRef('later.country', '=', 't.country')
                .where('later.effective_from', '<=', at)
                .whereRef('later.effective_from', '>', 't.effective_from'),
            ),
          ),
        )
        .execute();
    },
    async upsert(tx: Executor, row: TaxRateRow): Promise<void> {
      await tx
        .insertInto('tax_rates')
        .values(row)
        .onConflict((oc) =>
          oc.columns(['country', 'effective_from']).doUpdateSet({ rate_bps: row.rate_bps, name: row.name }),
        )
        .execute();
    },
  };
}

export type TaxRepo = ReturnType<typeof createTaxRepo>;
