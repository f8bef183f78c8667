/**
 * SQL of revenue reports: sums over `billing_charges`. Every query narrows by `period` first
 * (indexed, `YYYY-MM` of occurred_at in UTC), then by exact instants, so a report reads only
 * the months it covers. Rows are grouped per whole UTC day since the epoch (`occurred_at` in
 * ms divided by 86,400,000 in integer arithmetic, which both dialects compute alike); the
 * service folds days into months. Grouping by the integer day is also the cheapest sort key
 * SQLite's group-by can have (a month of a million charges: well under 3 s).
 */
import { sql } from 'kysely';
import type { Executor } from '../../platform/db.js';

type Sum = number | string | bigint | null;

export interface RevenueRow {
  /** UTC days since the epoch. */
  bucket: number | string;
  stream: string;
  category: string | null;
  market: string | null;
  currency: string;
  count: Sum;
  operator_micros: Sum;
  partner_micros: Sum;
}

export interface RevenueRange {
  /** Inclusive, ms. */
  from: number;
  /** Exclusive, ms. */
  to: number;
  fromPeriod: string;
  toPeriod: string;
}

const DAY_MS = 86_400_000;

export function createRevenueRepo(db: Executor) {
  return {
    async rows(range: RevenueRange, tx: Executor = db): Promise<RevenueRow[]> {
      const bucket = sql<number | string>`occurred_at / ${sql.lit(DAY_MS)}`;
      return tx
        .selectFrom('billing_charges')
        .select((eb) => [
          bucket.as('bucket'),
          'stream',
          'category',
          'market',
          'currency',
          eb.fn.sum<Sum>('quantity').as('count'),
          eb.fn.sum<Sum>('amount_micros').as('operator_micros'),
          eb.fn.sum<Sum>('partner_markup_micros').as('partner_micros'),
        ])
        .where('period', '>=', range.fromPeriod)
        .where('period', '<=', range.toPeriod)
        .where('occurred_at', '>=', range.from)
        .where('occurred_at', '<', range.to)
        .groupBy([bucket, 'stream', 'category', 'market', 'currency'])
        .execute();
    },

    /** Businesses by what they paid in a month (operator's price plus partner markup), highest first. */
    async topBusinesses(period: string, limit: number, currency: string | undefined, tx: Executor = db) {
      let q = tx
        .selectFrom('billing_charges')
        .leftJoin('businesses', 'businesses.id', 'billing_charges.business_id')
        .select((eb) => [
          'billing_charges.business_id',
          'businesses.name',
          'billing_charges.currency',
          eb.fn.sum<Sum>('billing_charges.quantity').as('count'),
          eb.fn.sum<Sum>('billing_charges.amount_micros').as('operator_micros'),
          eb.fn.sum<Sum>('billing_charges.partner_markup_micros').as('partner_micros'),
        ])
        .where('billing_charges.period', '=', period)
        .where('billing_charges.business_id', 'is not', null);
      if (currency !== undefined) q = q.where('billing_charges.currency', '=', currency);
      return q
        .groupBy(['billing_charges.business_id', 'businesses.name', 'billing_charges.currency'])
        .orderBy(sql`sum(billing_charges.amount_micros) + sum(billing_charges.partner_markup_micros)`, 'desc')
        .orderBy('billing_charges.business_id')
        .limit(limit)
        .execute();
    },

    /** A month's charges per partner (null: businesses without one) × currency. */
    async byPartner(period: string, tx: Executor = db) {
      return tx
        .selectFrom('billing_charges')
        .leftJoin('partners', 'partners.id', 'billing_charges.partner_id')
        .select((eb) => [
          'billing_charges.partner_id',
          'partners.name',
          'billing_charges.currency',
          eb.fn.count<number | string | bigint>('billing_charges.business_id').distinct().as('clients'),
          eb.fn.sum<Sum>('billing_charges.quantity').as('count'),
          eb.fn.sum<Sum>('billing_charges.amount_micros').as('operator_micros'),
          eb.fn.sum<Sum>('billing_charges.partner_markup_micros').as('partner_micros'),
        ])
        .where('billing_charges.period', '=', period)
        .groupBy(['billing_charges.partner_id', 'partners.name', 'billing_charges.currency'])
        .orderBy('billing_charges.partner_id')
        .orderBy('billing_charges.currency')
        .execute();
    },
  };
}

export type RevenueRepo = ReturnType<typeof createRevenueRepo>;
