/**
 * Tax rates: the operator sets a rate per country (basis points, a name such as VAT) from a date
 * on; 0 means none from then. An invoice takes the rate of its billing account's country in
 * force at the end of its period; an account without a country pays no tax.
 * Tax = round(subtotal × bps / 10,000), half-even, once per invoice.
 */
import { AppError } from '../../errors.js';
import type { Clock } from '../../platform/clock.js';
import type { Db, Executor } from '../../platform/db.js';
import { divideRounded } from './money.js';
import type { TaxRateRow, TaxRepo } from './tax.repo.js';

export interface TaxRateView {
  country: string;
  rate_bps: number;
  name: string;
  effective_from: string;
}

export interface TaxRate {
  country: string;
  rateBps: number;
  name: string;
}

export interface SetTaxRateInput {
  country: string;
  rate_bps: number;
  name?: string | undefined;
  /** ISO 8601 date or date-time; default now. */
  from?: string | undefined;
}

export function presentTaxRate(row: TaxRateRow): TaxRateView {
  return {
    country: row.country,
    rate_bps: row.rate_bps,
    name: row.name,
    effective_from: new Date(Number(row.effective_from)).toISOString(),
  };
}

export function taxOf(subtotalMinor: bigint, rateBps: number): bigint {
  return divideRounded(subtotalMinor * BigInt(rateBps), 10_000n, 'half_even');
}

export interface TaxServiceDeps {
  db: Pick<Db, 'kysely'>;
  repo: TaxRepo;
  clock: Clock;
}

export function createTaxService(deps: TaxServiceDeps) {
  const { db, repo, clock } = deps;
  const invalid = (message: string, details?: Record<string, unknown>) =>
    new AppError('BILLING_TAX_RATE_INVALID', message, details);

  return {
    /** Operator: sets a country's rate from a date on (same country and date: replaced). */
    async set(input: SetTaxRateInput): Promise<TaxRateView> {
      const country = input.country.toUpperCase();
      if (!/^[A-Z]{2}$/.test(country)) throw invalid('A country is an ISO 3166 two-letter code (DE).');
      if (!Number.isSafeInteger(input.rate_bps) || input.rate_bps < 0 || input.rate_bps > 10_000) {
        throw invalid('A rate is a whole number of basis points from 0 to 10000 (1900 = 19 %).', {
          rate_bps: input.rate_bps,
        });
      }
      const name = (input.name ?? 'Tax').trim();
      if (name.length < 1 || name.length > 32) throw invalid('A tax name has 1 to 32 characters.');
      const from = input.from === undefined ? clock.now() : Date.parse(input.from);
      if (!Number.isFinite(from)) throw invalid(`"${input.from}" is not a date (2026-01-01).`);
      const row: TaxRateRow = {
        country,
        effective_from: from,
        rate_bps: input.rate_bps,
        name,
        created_at: clock.now(),
      };
      await db.kysely.transaction().execute((tx) => repo.upsert(tx, row));
      return presentTaxRate(row);
    },

    async list(): Promise<TaxRateView[]> {
      return (await repo.all()).map(presentTaxRate);
    },

    /** Per country, the rate in force at `at`; a country with none (or 0) is left out. */
    async ratesAt(tx: Executor, countries: string[], at: number): Promise<Map<string, TaxRate>> {
      const out = new Map<string, TaxRate>();
      for (const row of await repo.inForce([...new Set(countries)], at, tx)) {
        if (row.rate_bps > 0)
          out.set(row.country, { country: row.country, rateBps: row.rate_bps, name: row.name });
      }
      return out;
    },
  };
}

export type TaxService = ReturnType<typeof createTaxService>;
