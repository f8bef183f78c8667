/**
 * Metering: turns delivered business messages (`message_events`) into charges, exactly once.
 *
 * Model and invariants:
 * - It runs inside the transaction that records the delivery, so an event and its charge
 *   commit together or not at all; the charge's idempotency key (`msg:<event key>`) is unique,
 *   so a replayed receipt or a second meter finds it charged and does nothing.
 * - Each charge records the pricing model, the rate-card version in force when the message
 *   was delivered, the unit price in micros and the rounding mode. Free messages are recorded
 *   too (billable 0), so usage shows them.
 * - Money moves in whole minor units: per billing account, the micros of a batch are added
 *   to the account's carry and only whole minor units are posted to the ledger, the rest
 *   carried, so a month of sub-cent messages posts exactly ⌊Σ micros⌋ with no per-message
 *   rounding. Holds placed at send are released as their messages are metered.
 * - Usage already delivered is posted even past the account's limit (the business then
 *   owes it; new sends are refused until it tops up).
 */
import type { Clock } from '../../platform/clock.js';
import type { Executor } from '../../platform/db.js';
import type { Ids } from '../../platform/ids.js';
import type {
  LedgerOp,
  LedgerPort,
  PartnersPort,
  PricingModelsPort,
  RateCardsPort,
} from './billing.ports.js';
import type { BillingAccountRow, BillingAccountsRepo, NewCharge } from './billing-accounts.repo.js';
import { markupPerUnitMicros } from './partners.markup.js';
import { PRICING_MODELS, rateCategory } from './pricing-models.js';
import { type Decision, decide, type PricingEvent, type PricingState, periodOf } from './pricing-rules.js';
import { microsPerMinor, splitLargestRemainder } from './units.js';

export const ROUNDING = 'half_even';

export interface MeteringDeps {
  repo: BillingAccountsRepo;
  ledger: LedgerPort;
  rateCards: RateCardsPort;
  pricingModels: PricingModelsPort;
  partners?: PartnersPort | undefined;
  clock: Clock;
  ids: Pick<Ids, 'newId'>;
  /** Billing accounts of businesses, created on first use. */
  ensureAccounts(tx: Executor, businessIds: string[]): Promise<Map<string, BillingAccountRow>>;
  /** The ledger account usage of a currency is credited to (operator revenue) or a partner's. */
  revenueAccount(tx: Executor, currency: string): Promise<string>;
  partnerAccount(tx: Executor, partnerId: string, currency: string): Promise<string>;
  /** Told which accounts were debited (low-balance alerts). */
  afterPosting?(tx: Executor, accounts: BillingAccountRow[]): Promise<void>;
}

export const chargeKey = (eventKey: string) => `msg:${eventKey}`;
export const holdKey = (messageId: string) => `hold:${messageId}`;

/** `periodOf`, remembering the last month seen (events of a batch share one or two). */
function periodCache(): (at: number) => string {
  let from = 0;
  let to = -1;
  let period = '';
  return (at) => {
    if (at >= from && at < to) return period;
    period = periodOf(at);
    const d = new Date(at);
    from = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
    to = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
    return period;
  };
}

/** The rate-card categories whose volume counter an event of this category may bump. */
const volumeCategories = new Map(
  (['marketing', 'utility', 'authentication', 'service'] as const).map((c) => [
    c,
    [...new Set(PRICING_MODELS.map((m) => rateCategory(m, c)))],
  ]),
);

const byMeteringOrder = (a: PricingEvent, b: PricingEvent) =>
  a.occurred_at - b.occurred_at || (a.event_key < b.event_key ? -1 : a.event_key > b.event_key ? 1 : 0);

/**
 * Prices events in metering order against `state`; shared by metering and reconciliation.
 * `markup` false leaves partner markups out (reconciliation compares them as recorded).
 */
export async function priceEvents(
  deps: Pick<MeteringDeps, 'rateCards' | 'pricingModels' | 'partners' | 'ids'>,
  tx: Executor,
  events: PricingEvent[],
  accounts: Map<string, Pick<BillingAccountRow, 'id' | 'currency' | 'country'>>,
  state: PricingState,
  now: number,
): Promise<NewCharge[]> {
  const out: NewCharge[] = [];
  const periodOfEvent = periodCache();
  for (const e of [...events].sort(byMeteringOrder)) {
    const account = accounts.get(e.business_id);
    if (!account) continue;
    const model = await deps.pricingModels.modelAt(tx, e.occurred_at);
    const decision: Decision = decide(model, e, account.id, state);
    let unit = 0n;
    let versionId: string | null = null;
    let markup = 0n;
    let partnerId: string | null = null;
    if (decision.billable && decision.volumeKey) {
      const price = await priceOf(deps.rateCards, tx, account, decision, e, state.count(decision.volumeKey));
      state.bump(decision.volumeKey);
      if (price) {
        unit = price.unitPriceMicros;
        versionId = price.versionId;
      }
      const m = await deps.partners?.markupFor(tx, e.business_id, decision.priceCategory);
      if (m) {
        partnerId = m.partnerId;
        markup = markupPerUnitMicros(unit, m);
      }
    }
    out.push({
      id: deps.ids.newId('chg'),
      idempotency_key: chargeKey(e.event_key),
      billing_account_id: account.id,
      business_id: e.business_id,
      person_account_id: null,
      stream: 'api_messages',
      category: decision.priceCategory === 'authentication_international' ? 'authentication' : e.category,
      market: e.market,
      pricing_model: model,
      pricing_type: decision.type,
      billable: decision.billable ? 1 : 0,
      quantity: 1,
      unit_price_micros: unit.toString(),
      amount_micros: unit.toString(),
      partner_id: partnerId,
      partner_markup_micros: markup.toString(),
      currency: account.currency,
      rate_card_version_id: versionId,
      rounding: ROUNDING,
      period: periodOfEvent(e.occurred_at),
      occurred_at: e.occurred_at,
      created_at: now,
      description: null,
      ledger_transfer_id: null,
    });
  }
  return out;
}

/**
 * The price of a billable message. Authentication to a market other than the business's own
 * country uses the authentication-international rate when the card has one for that market.
 */
async function priceOf(
  rateCards: RateCardsPort,
  tx: Executor,
  account: Pick<BillingAccountRow, 'currency' | 'country'>,
  decision: Decision,
  e: PricingEvent,
  monthlyCount: number,
) {
  const base = { currency: account.currency, market: e.market, at: e.occurred_at, monthlyCount };
  if (decision.priceCategory === 'authentication' && account.country && account.country !== e.market) {
    const intl = await rateCards.priceAt(tx, { ...base, category: 'authentication_international' });
    if (intl && intl.unitPriceMicros > 0n) {
      decision.priceCategory = 'authentication_international';
      return intl;
    }
  }
  return rateCards.priceAt(tx, { ...base, category: decision.priceCategory });
}

/** Live state: counters and conversations loaded for the batch, written back after. */
async function loadState(
  repo: BillingAccountsRepo,
  pricingModels: PricingModelsPort,
  tx: Executor,
  events: PricingEvent[],
  accounts: Map<string, BillingAccountRow>,
) {
  const counterKeys = new Set<string>();
  const conversationKeys = new Set<string>();
  const periodOfEvent = periodCache();
  for (const e of events) {
    const period = periodOfEvent(e.occurred_at);
    const account = accounts.get(e.business_id);
    counterKeys.add(`${e.phone_number_id}:${period}:service`);
    // Only the counters `decide` may read for this event (its volume key's category).
    for (const c of volumeCategories.get(e.category) ?? [])
      if (account) counterKeys.add(`${account.id}:${period}:${c}:${e.market}`);
    // Conversations matter only to events priced by conversation.
    if ((await pricingModels.modelAt(tx, e.occurred_at)) === 'CBP')
      conversationKeys.add(`${e.phone_number_id}:${e.recipient ?? e.event_key}:${e.category}`);
  }
  const counters = await repo.counters(tx, [...counterKeys]);
  const conversations = await repo.conversations(tx, [...conversationKeys]);
  const increments = new Map<string, number>();
  const opened = new Map<string, { opened_at: number; expires_at: number }>();
  const state: PricingState = {
    count: (k) => (counters.get(k) ?? 0) + (increments.get(k) ?? 0),
    bump: (k) => increments.set(k, (increments.get(k) ?? 0) + 1),
    conversationOpen: (k, at) => ((opened.get(k) ?? conversations.get(k))?.expires_at ?? -1) > at,
    openConversation: (k, at) => opened.set(k, { opened_at: at, expires_at: at + 24 * 3600_000 }),
  };
  return {
    state,
    async save() {
      await repo.addCounters(tx, increments);
      await repo.putConversations(
        tx,
        [...opened].map(([conversation_key, v]) => ({ conversation_key, ...v })),
      );
    },
  };
}

export function createMetering(deps: MeteringDeps) {
  const { repo, ledger, clock } = deps;

  return {
    /**
     * Charges delivered business messages once each, inside the caller's transaction.
     * Returns how many new charges were written.
     */
    async meter(tx: Executor, rows: readonly (PricingEvent & { kind?: string })[]): Promise<number> {
      const delivered = rows.filter((e) => e.kind === undefined || e.kind === 'delivered');
      if (delivered.length === 0) return 0;
      const seen = new Set<string>();
      const unique = delivered.filter((e) => !seen.has(e.event_key) && seen.add(e.event_key));
      const charged = await repo.chargedKeys(
        tx,
        unique.map((e) => chargeKey(e.event_key)),
      );
      const events = unique.filter((e) => !charged.has(chargeKey(e.event_key)));
      if (events.length === 0) return 0;

      const accounts = await deps.ensureAccounts(tx, [...new Set(events.map((e) => e.business_id))]);
      const { state, save } = await loadState(repo, deps.pricingModels, tx, events, accounts);
      const charges = await priceEvents(deps, tx, events, accounts, state, clock.now());
      await repo.insertCharges(tx, charges);
      await save();
      await post(tx, charges, events, accounts);
      return charges.length;
    },
  };

  /** Releases the holds of metered messages and posts whole minor units of usage per account. */
  async function post(
    tx: Executor,
    charges: NewCharge[],
    events: PricingEvent[],
    accounts: Map<string, BillingAccountRow>,
  ): Promise<void> {
    const ops: LedgerOp[] = [];
    const holdKeys = events.map((e) => holdKey(e.event_key.replace(/^delivered:/, '')));
    const holds = await ledger.byKeys(tx, holdKeys);
    for (const hold of holds.values()) {
      if (hold.flag === 'pending') ops.push({ type: 'void', key: `release:${hold.key}`, pendingId: hold.id });
    }

    const byAccount = new Map<string, NewCharge[]>();
    for (const c of charges) {
      if (c.billable !== 1) continue;
      const list = byAccount.get(c.billing_account_id) ?? [];
      list.push(c);
      byAccount.set(c.billing_account_id, list);
    }
    const accountById = new Map([...accounts.values()].map((a) => [a.id, a]));
    const carries = new Map<string, bigint>();
    const debited: BillingAccountRow[] = [];
    for (const [accountId, list] of byAccount) {
      const account = accountById.get(accountId);
      if (!account) continue;
      // Whole minor units to post now; the rest stays in the carry.
      const shares = new Map<string, bigint>([['', 0n]]);
      for (const c of list) {
        shares.set('', (shares.get('') ?? 0n) + BigInt(c.amount_micros));
        if (c.partner_id)
          shares.set(c.partner_id, (shares.get(c.partner_id) ?? 0n) + BigInt(c.partner_markup_micros));
      }
      const micros = [...shares.values()].reduce((a, b) => a + b, 0n);
      const unit = microsPerMinor(account.currency);
      const total = BigInt(account.carry_micros) + micros;
      const minor = total / unit;
      carries.set(account.id, total % unit);
      account.carry_micros = (total % unit).toString();
      if (minor === 0n) continue;
      const parties = [...shares.keys()];
      const split = splitLargestRemainder(minor, [...shares.values()]);
      const first = list[0]?.id ?? account.id;
      for (const [i, party] of parties.entries()) {
        const amount = split[i] ?? 0n;
        if (amount === 0n) continue;
        ops.push({
          type: 'transfer',
          key: `usage:${first}${party ? `:${party}` : ''}`,
          debitAccountId: account.ledger_account_id,
          creditAccountId: party
            ? await deps.partnerAccount(tx, party, account.currency)
            : await deps.revenueAccount(tx, account.currency),
          amount,
          currency: account.currency,
          kind: party ? 'usage_partner' : 'usage',
          ref: first,
          allowOverdraft: true,
        });
      }
      debited.push(account);
    }
    const results = await ledger.apply(tx, ops);
    for (const [i, r] of results.entries()) {
      const op = ops[i];
      // A hold already released (expired, or voided by a failure) is fine; anything else is a bug.
      if (!r.ok && !(op?.type === 'void' && r.error.code === 'LEDGER_PENDING_RESOLVED')) throw r.error;
    }
    await repo.setCarry(tx, carries);
    if (debited.length > 0) await deps.afterPosting?.(tx, debited);
  }
}

export type Metering = ReturnType<typeof createMetering>;
