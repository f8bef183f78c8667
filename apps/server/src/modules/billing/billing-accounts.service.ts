/**
 * Billing accounts: each business (and, with the consumer plan, each person) has one, in one
 * currency, prepaid or on a credit line, with its money in a ledger account. Sends are
 * reserved against it (a ledger hold), settled by metering on delivery and released on
 * failure; a send the balance and credit cannot cover is refused before anything is sent.
 */
import { AppError } from '../../errors.js';
import type { Clock } from '../../platform/clock.js';
import type { Db, Executor } from '../../platform/db.js';
import type { Ids } from '../../platform/ids.js';
import type { ChargeStream } from '../../platform/schema.js';
import type { WebhookChange } from '../cloud-api/webhook-port.js';
import type {
  LedgerOp,
  LedgerPort,
  NoticesPort,
  PartnersPort,
  PricingModelsPort,
  RateCardsPort,
} from './billing.ports.js';
import type { BillingAccountRow, BillingAccountsRepo } from './billing-accounts.repo.js';
import { holdKey } from './metering.js';
import { assertCurrency, currencyExponent, formatMoney as formatMinor } from './money.js';
import { markupPerUnitMicros } from './partners.markup.js';
import { decide, type PricingEvent, periodOf } from './pricing-rules.js';
import { microsPerMinor } from './units.js';

/** How long a send's hold lasts if its message is neither delivered nor failed. */
export const HOLD_MS = 30 * 24 * 3600_000;

export interface BillingAccountsDeps {
  db: Pick<Db, 'kysely'>;
  repo: BillingAccountsRepo;
  ledger: LedgerPort;
  rateCards: RateCardsPort;
  pricingModels: PricingModelsPort;
  partners?: PartnersPort | undefined;
  notices?: NoticesPort | undefined;
  webhooks?: { enqueue(tx: Executor, changes: WebhookChange[]): Promise<void> } | undefined;
  clock: Clock;
  ids: Pick<Ids, 'newId'>;
  /** New accounts' currency and credit limit (minor units; 0 = prepaid). */
  defaults: { currency: string; creditLimitMinor: bigint };
}

export interface BillingAccountView {
  billing_account_id: string;
  owner_type: 'business' | 'person';
  owner_id: string;
  currency: string;
  country: string | null;
  mode: 'prepaid' | 'credit';
  credit_limit_minor: string;
  /** Posted balance: money held (positive) or owed (negative). */
  balance_minor: string;
  /** Reserved for sends not yet delivered. */
  held_minor: string;
  /** What new sends may still use: balance − held + credit limit. */
  available_minor: string;
  balance: string;
  low_balance_minor: string | null;
}

/** A send to reserve: what the status webhook's pricing will say, estimated at accept. */
export interface SendToReserve {
  businessId: string;
  messageId: string;
  phoneNumberId: string;
  category: 'marketing' | 'utility' | 'authentication' | 'service';
  market: string;
  recipient: string;
  windowOpen: boolean;
  entryPoint: string | null;
  at: number;
}

export function createBillingAccounts(deps: BillingAccountsDeps) {
  const { db, repo, ledger, clock, ids } = deps;
  // Ledger account ids of revenue and partners, per currency: they never change once opened.
  // An id is trusted in any transaction only once another transaction has seen it: the one that
  // opened the account may still roll back (a refused subscribe does), and a cached id of an
  // account that was never committed made every later posting fail with
  // LEDGER_ACCOUNT_NOT_FOUND until a restart.
  const systemAccounts = new Map<string, { id: string; openedIn?: Executor }>();
  // Business → account identity (currency, ledger account). Changes go through `configure`.
  // The same rule as above: a row read inside a transaction may be that transaction's own,
  // made by `ensure` in an accept transaction that then rolls back.
  const known = new Map<string, { row: BillingAccountRow; seenIn?: Executor }>();

  async function systemAccount(
    tx: Executor,
    code: string,
    currency: string,
    kind: 'revenue' | 'partner' | 'external' | 'tax',
  ): Promise<string> {
    const key = `${code}/${currency}`;
    const cached = systemAccounts.get(key);
    if (cached && (cached.openedIn === undefined || cached.openedIn === tx)) return cached.id;
    // The operator's own accounts have no floor: refunds and credits may exceed what came in.
    // Opening is idempotent: it answers the existing account when there is one.
    const account = await ledger.openAccount(tx, { code, currency, kind, overdraftLimit: null });
    // The same id seen from another transaction was committed; otherwise it is this one's.
    systemAccounts.set(
      key,
      cached && cached.id === account.id ? { id: account.id } : { id: account.id, openedIn: tx },
    );
    return account.id;
  }

  async function ensure(
    tx: Executor,
    input: { ownerType: 'business' | 'person'; ownerId: string; currency?: string | undefined },
  ): Promise<BillingAccountRow> {
    const found = await repo.find(input.ownerType, input.ownerId, tx);
    if (found) return found;
    const currency = input.currency ?? deps.defaults.currency;
    assertCurrency(currency);
    const credit = deps.defaults.creditLimitMinor;
    const ledgerAccount = await ledger.openAccount(tx, {
      code: `${input.ownerType}:${input.ownerId}`,
      currency,
      kind: input.ownerType,
      overdraftLimit: credit,
    });
    const now = clock.now();
    const row: BillingAccountRow = {
      id: ids.newId('bac'),
      owner_type: input.ownerType,
      owner_id: input.ownerId,
      currency,
      country: null,
      mode: credit > 0n ? 'credit' : 'prepaid',
      credit_limit_minor: credit.toString(),
      ledger_account_id: ledgerAccount.id,
      partner_id: null,
      low_balance_minor: null,
      low_balance_alerted_at: null,
      carry_micros: '0',
      created_at: now,
      updated_at: now,
    };
    await repo.insert(tx, row);
    // Another transaction may have created it first (PostgreSQL); theirs wins.
    return (await repo.find(input.ownerType, input.ownerId, tx)) ?? row;
  }

  async function ensureBusinesses(
    tx: Executor,
    businessIds: string[],
  ): Promise<Map<string, BillingAccountRow>> {
    const rows = await repo.forBusinesses(tx, businessIds);
    const out = new Map(rows.map((r) => [r.owner_id, r]));
    for (const id of businessIds) {
      if (!out.has(id)) out.set(id, await ensure(tx, { ownerType: 'business', ownerId: id }));
    }
    return out;
  }

  async function view(row: BillingAccountRow, tx?: Executor): Promise<BillingAccountView> {
    const b = await ledger.balance(row.ledger_account_id, undefined, tx);
    const credit = BigInt(row.credit_limit_minor);
    return {
      billing_account_id: row.id,
      owner_type: row.owner_type,
      owner_id: row.owner_id,
      currency: row.currency,
      country: row.country,
      mode: row.mode,
      credit_limit_minor: credit.toString(),
      balance_minor: b.posted.toString(),
      held_minor: b.pendingDebits.toString(),
      available_minor: (b.available + credit).toString(),
      balance: formatMinor(b.posted, row.currency),
      low_balance_minor: row.low_balance_minor === null ? null : BigInt(row.low_balance_minor).toString(),
    };
  }

  /** The account of a business as sends see it (cached; `configure` refreshes it). */
  async function accountOf(businessId: string, tx?: Executor): Promise<BillingAccountRow | undefined> {
    const hit = known.get(businessId);
    if (hit && (hit.seenIn === undefined || hit.seenIn === tx)) return hit.row;
    const row = await repo.find('business', businessId, tx);
    // Committed for sure when read outside a transaction or seen from a second one.
    if (row)
      known.set(businessId, tx === undefined || hit?.row.id === row.id ? { row } : { row, seenIn: tx });
    return row;
  }

  /** The price of a send in minor units (rounded up: a hold must cover it), or 0n when free. */
  async function estimate(
    tx: Executor,
    send: SendToReserve,
    account: Pick<BillingAccountRow, 'id' | 'currency' | 'country'>,
  ) {
    const model = await deps.pricingModels.modelAt(tx, send.at);
    const event: PricingEvent = {
      event_key: `delivered:${send.messageId}`,
      business_id: send.businessId,
      phone_number_id: send.phoneNumberId,
      category: send.category,
      market: send.market,
      window_open: send.windowOpen ? 1 : 0,
      entry_point: send.entryPoint,
      recipient: send.recipient,
      occurred_at: send.at,
    };
    // A cheap first answer: no price for the category (or for utility, which service may be
    // charged at) means free, whatever the counters say. Most deployments without a rate
    // card stop here without a query.
    const probe = async (category: 'marketing' | 'utility' | 'authentication' | 'service') =>
      deps.rateCards.priceAt(tx, {
        currency: account.currency,
        category,
        market: send.market,
        at: send.at,
        monthlyCount: 0,
      });
    const direct = await probe(send.category);
    const asUtility = send.category === 'service' ? await probe('utility') : null;
    if (!(direct && direct.unitPriceMicros > 0n) && !(asUtility && asUtility.unitPriceMicros > 0n)) return 0n;

    const period = periodOf(send.at);
    const counterKeys = [
      `${send.phoneNumberId}:${period}:service`,
      ...['marketing', 'utility', 'authentication', 'authentication_international'].map(
        (c) => `${account.id}:${period}:${c}:${send.market}`,
      ),
    ];
    const conversationKey = `${send.phoneNumberId}:${send.recipient}:${send.category}`;
    const counters = await repo.counters(tx, counterKeys);
    const conversations = await repo.conversations(tx, [conversationKey]);
    const decision = decide(model, event, account.id, {
      count: (k) => counters.get(k) ?? 0,
      bump: () => {},
      conversationOpen: (k, at) => (conversations.get(k)?.expires_at ?? -1) > at,
      openConversation: () => {},
    });
    if (!decision.billable || !decision.volumeKey) return 0n;
    const price = await deps.rateCards.priceAt(tx, {
      currency: account.currency,
      category: decision.priceCategory,
      market: send.market,
      at: send.at,
      monthlyCount: counters.get(decision.volumeKey) ?? 0,
    });
    let micros = price?.unitPriceMicros ?? 0n;
    const m = await deps.partners?.markupFor(tx, send.businessId, decision.priceCategory);
    if (m) micros += markupPerUnitMicros(micros, m);
    if (micros <= 0n) return 0n;
    const unit = microsPerMinor(account.currency);
    return (micros + unit - 1n) / unit;
  }

  function insufficient(account: BillingAccountRow, needed: bigint, available: bigint): AppError {
    return new AppError(
      'BILLING_INSUFFICIENT_FUNDS',
      `This send costs up to ${formatMinor(needed, account.currency)} and the account has ` +
        `${formatMinor(available < 0n ? 0n : available, account.currency)} available. Top up or raise the credit line.`,
      { currency: account.currency, needed_minor: needed.toString(), available_minor: available.toString() },
    );
  }

  return {
    ensure,
    ensureBusinesses,
    accountOf,
    revenueAccount: (tx: Executor, currency: string) =>
      systemAccount(tx, 'revenue:api_messages', currency, 'revenue'),
    streamAccount: (tx: Executor, stream: string, currency: string) =>
      systemAccount(tx, `revenue:${stream}`, currency, 'revenue'),
    partnerAccount: (tx: Executor, partnerId: string, currency: string) =>
      systemAccount(tx, `partner:${partnerId}`, currency, 'partner'),
    externalAccount: (tx: Executor, provider: string, currency: string) =>
      systemAccount(tx, `external:${provider}`, currency, 'external'),

    async get(ownerType: 'business' | 'person', ownerId: string, tx?: Executor) {
      return repo.find(ownerType, ownerId, tx);
    },

    /** The account as the business sees it (created on first look, in the default currency). */
    async viewOf(ownerType: 'business' | 'person', ownerId: string): Promise<BillingAccountView> {
      const row = await db.kysely.transaction().execute((tx) => ensure(tx, { ownerType, ownerId }));
      return view(row);
    },

    /**
     * Operator: currency (only while the account has no charges and no money), prepaid or
     * credit line and its limit, tax country, low-balance threshold.
     */
    async configure(
      ownerType: 'business' | 'person',
      ownerId: string,
      patch: {
        currency?: string | undefined;
        mode?: 'prepaid' | 'credit' | undefined;
        creditLimitMinor?: bigint | undefined;
        country?: string | null | undefined;
        lowBalanceMinor?: bigint | null | undefined;
      },
    ): Promise<BillingAccountView> {
      if (patch.currency !== undefined) assertCurrency(patch.currency);
      if (patch.country != null && !/^[A-Z]{2}$/.test(patch.country)) {
        throw new AppError('VALIDATION_FAILED', 'A country is an ISO 3166 alpha-2 code such as DE.');
      }
      if (patch.creditLimitMinor !== undefined && patch.creditLimitMinor < 0n) {
        throw new AppError('BILLING_INVALID_AMOUNT', 'A credit limit is a whole number of minor units ≥ 0.');
      }
      const row = await db.kysely.transaction().execute(async (tx) => {
        let account = await ensure(tx, { ownerType, ownerId, currency: patch.currency });
        if (patch.currency !== undefined && patch.currency !== account.currency) {
          const b = await ledger.balance(account.ledger_account_id, undefined, tx);
          const charges = await tx
            .selectFrom('billing_charges')
            .select('id')
            .where('billing_account_id', '=', account.id)
            .limit(1)
            .execute();
          if (charges.length > 0 || b.posted !== 0n || b.pendingDebits !== 0n) {
            throw new AppError(
              'BILLING_CURRENCY_LOCKED',
              `The account already has money or charges in ${account.currency}; its currency cannot change.`,
              { currency: account.currency },
            );
          }
          const moved = await ledger.openAccount(tx, {
            code: `${ownerType}:${ownerId}`,
            currency: patch.currency,
            kind: ownerType,
            overdraftLimit: 0n,
          });
          await repo.update(tx, account.id, { currency: patch.currency, updated_at: clock.now() });
          await tx
            .updateTable('billing_accounts')
            .set({ ledger_account_id: moved.id })
            .where('id', '=', account.id)
            .execute();
          account = { ...account, currency: patch.currency, ledger_account_id: moved.id };
        }
        const mode = patch.mode ?? account.mode;
        const limit =
          mode === 'prepaid' ? 0n : (patch.creditLimitMinor ?? BigInt(account.credit_limit_minor));
        await repo.update(tx, account.id, {
          mode,
          credit_limit_minor: limit.toString(),
          ...(patch.country !== undefined ? { country: patch.country } : {}),
          ...(patch.lowBalanceMinor !== undefined
            ? { low_balance_minor: patch.lowBalanceMinor?.toString() ?? null, low_balance_alerted_at: null }
            : {}),
          updated_at: clock.now(),
        });
        await ledger.setOverdraftLimit(tx, account.ledger_account_id, limit);
        return (await repo.byId(account.id, tx)) as BillingAccountRow;
      });
      if (ownerType === 'business') known.set(ownerId, { row });
      return view(row);
    },

    /**
     * Before accepting: refuses at once a send the account clearly cannot pay for. The hold
     * itself is placed in the accept transaction (`reserve`).
     */
    async precheck(send: SendToReserve): Promise<void> {
      const account = await accountOf(send.businessId);
      const currency = account?.currency ?? deps.defaults.currency;
      const needed = await estimate(db.kysely, send, account ?? { id: '', currency, country: null });
      if (needed === 0n) return;
      if (!account) {
        if (deps.defaults.creditLimitMinor >= needed) return;
        throw insufficient({ currency } as BillingAccountRow, needed, deps.defaults.creditLimitMinor);
      }
      const b = await ledger.balance(account.ledger_account_id);
      const available = b.available + BigInt(account.credit_limit_minor);
      if (available < needed) throw insufficient(account, needed, available);
    },

    /**
     * In the accept transaction: places a hold per billable send for its estimated price.
     * Returns the sends refused (the ledger found the money gone since the precheck).
     */
    async reserve(tx: Executor, sends: SendToReserve[]): Promise<Map<string, AppError>> {
      const refused = new Map<string, AppError>();
      const ops: LedgerOp[] = [];
      const opSends: { send: SendToReserve; account: BillingAccountRow; needed: bigint }[] = [];
      for (const send of sends) {
        const cached = await accountOf(send.businessId, tx);
        const currency = cached?.currency ?? deps.defaults.currency;
        const needed = await estimate(tx, send, cached ?? { id: '', currency, country: null });
        if (needed === 0n) continue;
        const account = cached ?? (await ensure(tx, { ownerType: 'business', ownerId: send.businessId }));
        ops.push({
          type: 'transfer',
          key: holdKey(send.messageId),
          debitAccountId: account.ledger_account_id,
          creditAccountId: await systemAccount(tx, 'revenue:api_messages', account.currency, 'revenue'),
          amount: needed,
          currency: account.currency,
          kind: 'hold',
          ref: send.messageId,
          pending: { expiresAt: send.at + HOLD_MS },
        });
        opSends.push({ send, account, needed });
      }
      if (ops.length === 0) return refused;
      const results = await ledger.apply(tx, ops);
      for (const [i, r] of results.entries()) {
        const s = opSends[i];
        if (!s || r.ok) continue;
        if (r.error.code !== 'LEDGER_INSUFFICIENT_FUNDS') throw r.error;
        const b = await ledger.balance(s.account.ledger_account_id, undefined, tx);
        refused.set(
          s.send.messageId,
          insufficient(s.account, s.needed, b.available + BigInt(s.account.credit_limit_minor)),
        );
      }
      return refused;
    },

    /** Releases the holds of messages that failed (nothing is charged for them). */
    async release(tx: Executor, messageIds: string[]): Promise<void> {
      if (messageIds.length === 0) return;
      const holds = await ledger.byKeys(tx, messageIds.map(holdKey));
      const ops: LedgerOp[] = [...holds.values()]
        .filter((h) => h.flag === 'pending')
        .map((h) => ({ type: 'void', key: `release:${h.key}`, pendingId: h.id }));
      if (ops.length === 0) return;
      const results = await ledger.apply(tx, ops);
      for (const r of results) if (!r.ok && r.error.code !== 'LEDGER_PENDING_RESOLVED') throw r.error;
    },

    /** After usage was posted: alerts (webhook + in-app) accounts that fell below their threshold. */
    async checkLowBalance(tx: Executor, accounts: BillingAccountRow[]): Promise<void> {
      for (const account of accounts) {
        if (account.low_balance_minor === null) continue;
        const b = await ledger.balance(account.ledger_account_id, undefined, tx);
        const available = b.available + BigInt(account.credit_limit_minor);
        const threshold = BigInt(account.low_balance_minor);
        // Back above the threshold (a top-up): the next fall alerts again.
        if (available >= threshold) {
          if (account.low_balance_alerted_at !== null) {
            await repo.update(tx, account.id, { low_balance_alerted_at: null });
          }
          continue;
        }
        if (account.low_balance_alerted_at !== null) continue;
        const now = clock.now();
        await repo.update(tx, account.id, { low_balance_alerted_at: now });
        const text =
          `The account has ${formatMinor(available, account.currency)} available, below the ` +
          `alert threshold of ${formatMinor(threshold, account.currency)}.`;
        await deps.notices?.add(tx, {
          ownerType: account.owner_type,
          ownerId: account.owner_id,
          kind: 'low_balance',
          title: 'Low balance',
          body: text,
          data: {
            available_minor: available.toString(),
            threshold_minor: threshold.toString(),
            currency: account.currency,
          },
        });
        if (account.owner_type === 'business') {
          await deps.webhooks?.enqueue(tx, [
            {
              businessId: account.owner_id,
              field: 'account_alerts',
              value: {
                entity_type: 'WABA',
                entity_id: account.owner_id,
                alert_info: {
                  alert_severity: 'WARNING',
                  alert_status: 'ACTIVE',
                  alert_type: 'LOW_BALANCE',
                  alert_description: text,
                },
              },
            },
          ]);
        }
      }
    },

    /**
     * A fee (a plan, the consumer plan) or, with a negative amount, a credit (the unused part
     * of a plan), inside `tx`: one immutable charge row and its ledger transfer between the
     * account and `revenue:<stream>`, both under `key`. A replayed key returns the first
     * charge; an account that cannot pay gets the ledger's LEDGER_INSUFFICIENT_FUNDS and
     * nothing is written.
     */
    async charge(
      tx: Executor,
      input: {
        billingAccountId: string;
        key: string;
        stream: ChargeStream;
        amountMinor: bigint;
        description: string;
        occurredAt: number;
        businessId?: string | null | undefined;
        personAccountId?: string | null | undefined;
      },
    ): Promise<{ chargeId: string; replayed: boolean }> {
      const existing = await tx
        .selectFrom('billing_charges')
        .select('id')
        .where('idempotency_key', '=', input.key)
        .executeTakeFirst();
      if (existing) return { chargeId: existing.id, replayed: true };
      const account = await repo.byId(input.billingAccountId, tx);
      if (!account)
        throw new AppError('BILLING_ACCOUNT_NOT_FOUND', `No billing account ${input.billingAccountId}.`);
      const revenue = await systemAccount(tx, `revenue:${input.stream}`, account.currency, 'revenue');
      let transferId: string | null = null;
      if (input.amountMinor !== 0n) {
        const credit = input.amountMinor < 0n;
        const [result] = await ledger.apply(tx, [
          {
            type: 'transfer',
            key: `charge:${input.key}`,
            debitAccountId: credit ? revenue : account.ledger_account_id,
            creditAccountId: credit ? account.ledger_account_id : revenue,
            amount: credit ? -input.amountMinor : input.amountMinor,
            currency: account.currency,
            kind: credit ? 'fee_credit' : 'fee',
            ref: input.key,
          },
        ]);
        if (!result) throw new AppError('INTERNAL_ERROR', 'The ledger returned no result.');
        if (!result.ok) throw result.error;
        transferId = result.transfer.id;
      }
      const micros = input.amountMinor * microsPerMinor(account.currency);
      const id = ids.newId('chg');
      await repo.insertCharges(tx, [
        {
          id,
          idempotency_key: input.key,
          billing_account_id: account.id,
          business_id: input.businessId ?? (account.owner_type === 'business' ? account.owner_id : null),
          person_account_id:
            input.personAccountId ?? (account.owner_type === 'person' ? account.owner_id : null),
          stream: input.stream,
          category: null,
          market: null,
          pricing_model: null,
          pricing_type: null,
          billable: 1,
          quantity: 1,
          unit_price_micros: micros.toString(),
          amount_micros: micros.toString(),
          partner_id: null,
          partner_markup_micros: '0',
          currency: account.currency,
          rate_card_version_id: null,
          rounding: 'half_even',
          period: new Date(input.occurredAt).toISOString().slice(0, 7),
          occurred_at: input.occurredAt,
          created_at: clock.now(),
          description: input.description,
          ledger_transfer_id: transferId,
        },
      ]);
      return { chargeId: id, replayed: false };
    },

    currencyExponent,
  };
}

export type BillingAccounts = ReturnType<typeof createBillingAccounts>;
