/**
 * A stand-in for metering in partner and revenue tests: writes `billing_charges` rows as the
 * billing core does (contracts: one immutable row per priced event or fee).
 */
import type { Insertable } from 'kysely';
import type { Executor } from '../../src/platform/db.js';
import type { BillingChargesTable, ChargeStream } from '../../src/platform/schema.js';

let n = 0;

export interface ChargeSpec {
  businessId?: string | null;
  stream?: ChargeStream;
  category?: string | null;
  market?: string | null;
  currency?: string;
  quantity?: number;
  billable?: boolean;
  unitPriceMicros?: bigint;
  partnerId?: string | null;
  partnerMarkupMicros?: bigint;
  occurredAt: number;
}

export function chargeRow(spec: ChargeSpec): Insertable<BillingChargesTable> {
  const id = `chg_T${String(++n).padStart(25, '0')}`;
  const quantity = spec.quantity ?? 1;
  const unit = spec.unitPriceMicros ?? 4400n;
  const billable = spec.billable ?? true;
  return {
    id,
    idempotency_key: `test:${id}`,
    billing_account_id: `bac_${spec.businessId ?? 'none'}`,
    business_id: spec.businessId === undefined ? 'biz_test' : spec.businessId,
    person_account_id: null,
    stream: spec.stream ?? 'api_messages',
    category: spec.category === undefined ? 'marketing' : spec.category,
    market: spec.market === undefined ? 'US' : spec.market,
    pricing_model: 'PMP',
    pricing_type: 'regular',
    billable: billable ? 1 : 0,
    quantity,
    unit_price_micros: Number(unit),
    amount_micros: billable ? Number(unit * BigInt(quantity)) : 0,
    partner_id: spec.partnerId ?? null,
    partner_markup_micros: Number(spec.partnerMarkupMicros ?? 0n),
    currency: spec.currency ?? 'USD',
    rate_card_version_id: null,
    rounding: 'half_even',
    period: new Date(spec.occurredAt).toISOString().slice(0, 7),
    occurred_at: spec.occurredAt,
    created_at: spec.occurredAt,
    description: null,
    ledger_transfer_id: null,
  };
}

export async function insertCharges(db: Executor, specs: ChargeSpec[]): Promise<void> {
  for (let i = 0; i < specs.length; i += 500) {
    await db
      .insertInto('billing_charges')
      .values(specs.slice(i, i + 500).map(chargeRow))
      .execute();
  }
}
