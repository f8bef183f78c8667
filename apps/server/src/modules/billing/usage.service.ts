/** What a business sees of its metering: usage per category and market, and its charges. */
import type { Executor } from '../../platform/db.js';
import type { BillingAccountsRepo, ChargeRow } from './billing-accounts.repo.js';
import { microsToMinor, type RoundingMode } from './money.js';

export interface UsageLine {
  category: string | null;
  market: string | null;
  messages: number;
  billable: number;
  amount_micros: string;
  amount_minor: string;
}

const presentCharge = (c: ChargeRow) => ({
  charge_id: c.id,
  stream: c.stream,
  category: c.category,
  market: c.market,
  pricing_model: c.pricing_model,
  pricing_type: c.pricing_type,
  billable: c.billable === 1,
  quantity: c.quantity,
  unit_price_micros: BigInt(c.unit_price_micros).toString(),
  amount_micros: (BigInt(c.amount_micros) + BigInt(c.partner_markup_micros)).toString(),
  currency: c.currency,
  rate_card_version_id: c.rate_card_version_id,
  rounding: c.rounding,
  occurred_at: new Date(c.occurred_at).toISOString(),
  description: c.description,
});

export function createUsageService(deps: { db: { kysely: Executor }; repo: BillingAccountsRepo }) {
  const { db, repo } = deps;
  return {
    async usage(businessId: string, period: string) {
      const account = await repo.find('business', businessId);
      if (!account) return { business_id: businessId, period, currency: null, lines: [], total_minor: '0' };
      const rows = await db.kysely
        .selectFrom('billing_charges')
        .select((eb) => [
          'category',
          'market',
          'rounding',
          eb.fn.countAll<number | string>().as('messages'),
          eb.fn.sum<number | string>('billable').as('billable'),
          eb.fn.sum<number | string>('amount_micros').as('amount'),
          eb.fn.sum<number | string>('partner_markup_micros').as('markup'),
        ])
        .where('billing_account_id', '=', account.id)
        .where('period', '=', period)
        .where('stream', '=', 'api_messages')
        .groupBy(['category', 'market', 'rounding'])
        .orderBy('category')
        .orderBy('market')
        .execute();
      let total = 0n;
      const lines: UsageLine[] = rows.map((r) => {
        const micros = BigInt(r.amount ?? 0) + BigInt(r.markup ?? 0);
        const minorAmount = microsToMinor(micros, account.currency, r.rounding as RoundingMode);
        total += minorAmount;
        return {
          category: r.category,
          market: r.market,
          messages: Number(r.messages),
          billable: Number(r.billable ?? 0),
          amount_micros: micros.toString(),
          amount_minor: minorAmount.toString(),
        };
      });
      return {
        business_id: businessId,
        period,
        currency: account.currency,
        lines,
        total_minor: total.toString(),
      };
    },

    async charges(businessId: string, q: { period: string; limit: number; after?: string | undefined }) {
      const account = await repo.find('business', businessId);
      if (!account) return { data: [], next: null };
      let query = db.kysely
        .selectFrom('billing_charges')
        .selectAll()
        .where('billing_account_id', '=', account.id)
        .where('period', '=', q.period);
      if (q.after) query = query.where('id', '<', q.after);
      const rows = await query
        .orderBy('id', 'desc')
        .limit(q.limit + 1)
        .execute();
      const page = rows.slice(0, q.limit);
      return {
        data: page.map(presentCharge),
        next: rows.length > q.limit ? (page[page.length - 1]?.id ?? null) : null,
      };
    },
  };
}

export type UsageService = ReturnType<typeof createUsageService>;
