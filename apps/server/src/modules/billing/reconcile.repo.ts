/**
 * The stored side of reconciliation, as set-based queries: a month of charges is compared as
 * grouped lines and anti-joins, never loaded row by row (a busy month has millions).
 */
import { sql } from 'kysely';
import type { Executor } from '../../platform/db.js';

/** Stored message charges of a period, grouped the way reconciliation compares them. */
export interface StoredLine {
  billing_account_id: string;
  category: string | null;
  market: string | null;
  pricing_type: string | null;
  rate_card_version_id: string | null;
  unit_price_micros: string;
  billable: number;
  count: number;
  micros: bigint;
}

export interface AccountMoney {
  id: string;
  ledger_account_id: string;
  currency: string;
  carry_micros: bigint;
  /** All billable message micros of the account, every period (the carry spans them). */
  billable_micros: bigint;
}

const CHUNK = 500;

export function createReconcileRepo() {
  return {
    async chargeLines(tx: Executor, period: string): Promise<StoredLine[]> {
      const { rows } = await sql<{
        billing_account_id: string;
        category: string | null;
        market: string | null;
        pricing_type: string | null;
        rate_card_version_id: string | null;
        unit_price_micros: string;
        billable: number | string;
        n: number | string;
        micros: string | null;
      }>`select billing_account_id, category, market, pricing_type, rate_card_version_id,
          cast(unit_price_micros as text) as unit_price_micros, billable,
          count(*) as n, cast(sum(amount_micros) as text) as micros
        from billing_charges where period = ${period} and stream = 'api_messages'
        group by billing_account_id, category, market, pricing_type, rate_card_version_id,
          unit_price_micros, billable`.execute(tx);
      return rows.map((r) => ({
        billing_account_id: r.billing_account_id,
        category: r.category,
        market: r.market,
        pricing_type: r.pricing_type,
        rate_card_version_id: r.rate_card_version_id,
        unit_price_micros: r.unit_price_micros,
        billable: Number(r.billable),
        count: Number(r.n),
        micros: BigInt(r.micros ?? 0),
      }));
    },

    /** Charge keys (`msg:<event key>`) of the month's delivery events that have no charge. */
    async eventsWithoutCharge(tx: Executor, from: number, to: number): Promise<string[]> {
      const { rows } = await sql<{ key: string }>`select 'msg:' || e.event_key as key
        from message_events e
        where e.kind = 'delivered' and e.occurred_at >= ${from} and e.occurred_at < ${to}
          and not exists (select 1 from billing_charges c where c.idempotency_key = 'msg:' || e.event_key)
        order by e.occurred_at, e.event_key`.execute(tx);
      return rows.map((r) => r.key);
    },

    /** Message charges of the period whose delivery event is not among the month's. */
    async chargesWithoutEvent(tx: Executor, period: string, from: number, to: number): Promise<string[]> {
      // Message charge keys are 'msg:' (4 characters) + the event key.
      const { rows } = await sql<{ key: string }>`select c.idempotency_key as key
        from billing_charges c
        where c.period = ${period} and c.stream = 'api_messages'
          and not exists (select 1 from message_events e
            where e.event_key = substr(c.idempotency_key, 5) and e.kind = 'delivered'
              and e.occurred_at >= ${from} and e.occurred_at < ${to})
        order by c.occurred_at, c.idempotency_key`.execute(tx);
      return rows.map((r) => r.key);
    },

    /** The money side of these billing accounts: carry and all-time billable message micros. */
    async accountMoney(tx: Executor, ids: readonly string[]): Promise<AccountMoney[]> {
      const out: AccountMoney[] = [];
      for (let i = 0; i < ids.length; i += CHUNK) {
        const part = sql.join(ids.slice(i, i + CHUNK).map((id) => sql`${id}`));
        const { rows } = await sql<{
          id: string;
          ledger_account_id: string;
          currency: string;
          carry_micros: string;
          billable_micros: string | null;
        }>`select a.id, a.ledger_account_id, a.currency, cast(a.carry_micros as text) as carry_micros,
            (select cast(sum(c.amount_micros + c.partner_markup_micros) as text) from billing_charges c
              where c.billing_account_id = a.id and c.stream = 'api_messages' and c.billable = 1)
              as billable_micros
          from billing_accounts a where a.id in (${part})`.execute(tx);
        for (const r of rows)
          out.push({
            id: r.id,
            ledger_account_id: r.ledger_account_id,
            currency: r.currency,
            carry_micros: BigInt(r.carry_micros),
            billable_micros: BigInt(r.billable_micros ?? 0),
          });
      }
      return out;
    },
  };
}

export type ReconcileRepo = ReturnType<typeof createReconcileRepo>;
