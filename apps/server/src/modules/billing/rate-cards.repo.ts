/** SQL of rate cards and pricing models. */
import { type Selectable, sql } from 'kysely';
import type { DbCaps, Executor } from '../../platform/db.js';
import type { BillingRateCardVersionsTable } from '../../platform/schema.js';
import type { BillingCategory, PricingModel } from './pricing-models.js';
import type { RateRow } from './rate-cards.model.js';

export interface RateCardVersion {
  id: string;
  currency: string;
  effectiveFrom: number;
  effectiveTo: number | null;
  name: string | null;
  supersededBy: string | null;
  createdAt: number;
  updatedAt: number;
}

const toVersion = (r: Selectable<BillingRateCardVersionsTable>): RateCardVersion => ({
  id: r.id,
  currency: r.currency,
  effectiveFrom: Number(r.effective_from),
  effectiveTo: r.effective_to === null ? null : Number(r.effective_to),
  name: r.name,
  supersededBy: r.superseded_by,
  createdAt: Number(r.created_at),
  updatedAt: Number(r.updated_at),
});

// 5 parameters a row; stays far below SQLite's and PostgreSQL's parameter limits.
const INSERT_CHUNK = 1000;

export function createRateCardsRepo(db: { kysely: Executor; caps: Pick<DbCaps, 'rowLocks'> }) {
  const root = db.kysely;
  return {
    /**
     * Serialises rate-card writes of one currency for the rest of the transaction (PostgreSQL:
     * an advisory lock, since the overlap check reads rows a concurrent import may be adding;
     * SQLite already runs one writer at a time).
     */
    async lockCurrency(tx: Executor, currency: string): Promise<void> {
      if (!db.caps.rowLocks) return;
      await sql`select pg_advisory_xact_lock(hashtext(${`billing_rate_cards:${currency}`}))`.execute(tx);
    },
    async versions(tx: Executor = root, currency?: string): Promise<RateCardVersion[]> {
      let q = tx.selectFrom('billing_rate_card_versions').selectAll();
      if (currency !== undefined) q = q.where('currency', '=', currency);
      const rows = await q.orderBy('currency').orderBy('effective_from').execute();
      return rows.map(toVersion);
    },
    async version(id: string, tx: Executor = root): Promise<RateCardVersion | undefined> {
      const row = await tx
        .selectFrom('billing_rate_card_versions')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirst();
      return row && toVersion(row);
    },
    async rowCounts(tx: Executor = root): Promise<Map<string, number>> {
      const rows = await tx
        .selectFrom('billing_rate_card_prices')
        .select(['version_id', (eb) => eb.fn.countAll<number | string>().as('n')])
        .groupBy('version_id')
        .execute();
      return new Map(rows.map((r) => [r.version_id, Number(r.n)]));
    },
    async prices(tx: Executor = root, versionId?: string): Promise<(RateRow & { versionId: string })[]> {
      let q = tx.selectFrom('billing_rate_card_prices').selectAll();
      if (versionId !== undefined) q = q.where('version_id', '=', versionId);
      const rows = await q.execute();
      return rows.map((r) => ({
        versionId: r.version_id,
        category: r.category as BillingCategory,
        market: r.market,
        fromCount: Number(r.from_count),
        unitPriceMicros: BigInt(r.unit_price_micros),
      }));
    },
    /** What changes whenever a version is added, closed or deleted: compared to reload caches. */
    async signature(tx: Executor = root): Promise<string> {
      const row = await tx
        .selectFrom('billing_rate_card_versions')
        .select((eb) => [
          eb.fn.countAll<number | string>().as('n'),
          eb.fn.max('id').as('max_id'),
          eb.fn.max('updated_at').as('max_updated'),
        ])
        .executeTakeFirst();
      return `${row?.n ?? 0}:${row?.max_id ?? ''}:${row?.max_updated ?? ''}`;
    },
    async insertVersion(tx: Executor, v: RateCardVersion, rows: RateRow[]): Promise<void> {
      await tx
        .insertInto('billing_rate_card_versions')
        .values({
          id: v.id,
          currency: v.currency,
          effective_from: v.effectiveFrom,
          effective_to: v.effectiveTo,
          name: v.name,
          superseded_by: v.supersededBy,
          created_at: v.createdAt,
          updated_at: v.updatedAt,
        })
        .execute();
      for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
        await tx
          .insertInto('billing_rate_card_prices')
          .values(
            rows.slice(i, i + INSERT_CHUNK).map((r) => ({
              version_id: v.id,
              category: r.category,
              market: r.market,
              from_count: r.fromCount,
              unit_price_micros: r.unitPriceMicros,
            })),
          )
          .execute();
      }
    },
    async close(
      tx: Executor,
      id: string,
      effectiveTo: number | null,
      supersededBy: string | null,
      now: number,
    ) {
      await tx
        .updateTable('billing_rate_card_versions')
        .set({ effective_to: effectiveTo, superseded_by: supersededBy, updated_at: now })
        .where('id', '=', id)
        .execute();
    },
    async supersededBy(tx: Executor, id: string): Promise<RateCardVersion | undefined> {
      const row = await tx
        .selectFrom('billing_rate_card_versions')
        .selectAll()
        .where('superseded_by', '=', id)
        .executeTakeFirst();
      return row && toVersion(row);
    },
    async deleteVersion(tx: Executor, id: string): Promise<void> {
      await tx.deleteFrom('billing_rate_card_prices').where('version_id', '=', id).execute();
      await tx.deleteFrom('billing_rate_card_versions').where('id', '=', id).execute();
    },

    /** The currency of a business's billing account, if it has one. */
    async businessCurrency(businessId: string, tx: Executor = root): Promise<string | undefined> {
      const row = await tx
        .selectFrom('billing_accounts')
        .select('currency')
        .where('owner_type', '=', 'business')
        .where('owner_id', '=', businessId)
        .executeTakeFirst();
      return row?.currency;
    },

    async modelSwitches(tx: Executor = root): Promise<{ effectiveFrom: number; model: PricingModel }[]> {
      const rows = await tx
        .selectFrom('billing_pricing_models')
        .selectAll()
        .orderBy('effective_from')
        .execute();
      return rows.map((r) => ({ effectiveFrom: Number(r.effective_from), model: r.model as PricingModel }));
    },
    async modelSignature(tx: Executor = root): Promise<string> {
      const row = await tx
        .selectFrom('billing_pricing_models')
        .select((eb) => [
          eb.fn.countAll<number | string>().as('n'),
          eb.fn.max('created_at').as('max_created'),
          eb.fn.max('effective_from').as('max_from'),
        ])
        .executeTakeFirst();
      return `${row?.n ?? 0}:${row?.max_created ?? ''}:${row?.max_from ?? ''}`;
    },
    /** A switch at a date already planned is replaced. */
    async setModel(tx: Executor, effectiveFrom: number, model: PricingModel, now: number): Promise<void> {
      await tx
        .insertInto('billing_pricing_models')
        .values({ effective_from: effectiveFrom, model, created_at: now })
        .onConflict((oc) => oc.column('effective_from').doUpdateSet({ model, created_at: now }))
        .execute();
    },
  };
}

export type RateCardsRepo = ReturnType<typeof createRateCardsRepo>;
