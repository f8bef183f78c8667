/**
 * Test stand-ins for what invoices take from other billing pieces: an in-memory ledger that
 * follows the contract (idempotent keys, refusal when available − amount < −overdraft limit)
 * and builders that insert billing accounts and charges as metering would.
 */
import type { ErrorCode } from '@parley/protocol';
import { AppError } from '../../src/errors.js';
import type {
  LedgerAccount,
  LedgerAccountKind,
  LedgerOp,
  LedgerPort,
  LedgerResult,
  LedgerTransfer,
} from '../../src/modules/billing/invoices.ports.js';
import type { Executor } from '../../src/platform/db.js';
import type { Ids } from '../../src/platform/ids.js';

const ledgerError = (code: string, message: string) => new AppError(code as ErrorCode, message);

export function createMemoryLedger(ids: Ids) {
  const accounts = new Map<string, LedgerAccount>();
  const byCode = new Map<string, string>();
  const transfers = new Map<string, { op: string; transfer: LedgerTransfer }>();
  const balance = (a: LedgerAccount) => a.creditsPosted - a.debitsPosted;

  function openSync(spec: {
    code: string;
    currency: string;
    kind: LedgerAccountKind;
    overdraftLimit: bigint | null;
  }) {
    const existing = byCode.get(`${spec.code}/${spec.currency}`);
    if (existing) return accounts.get(existing) as LedgerAccount;
    const account: LedgerAccount = {
      id: ids.newId('lac'),
      ...spec,
      debitsPosted: 0n,
      creditsPosted: 0n,
      debitsPending: 0n,
      creditsPending: 0n,
    };
    accounts.set(account.id, account);
    byCode.set(`${spec.code}/${spec.currency}`, account.id);
    return account;
  }

  function applyOne(op: LedgerOp): LedgerResult {
    if (op.type !== 'transfer')
      return { ok: false, error: ledgerError('LEDGER_PENDING_NOT_FOUND', 'no holds here') };
    const fingerprint = JSON.stringify({ ...op, amount: op.amount.toString() });
    const seen = transfers.get(op.key);
    if (seen) {
      return seen.op === fingerprint
        ? { ok: true, transfer: seen.transfer, replayed: true }
        : { ok: false, error: ledgerError('LEDGER_IDEMPOTENCY_CONFLICT', op.key) };
    }
    const debit = accounts.get(op.debitAccountId);
    const credit = accounts.get(op.creditAccountId);
    if (!debit || !credit) return { ok: false, error: ledgerError('LEDGER_ACCOUNT_NOT_FOUND', op.key) };
    if (op.amount <= 0n) return { ok: false, error: ledgerError('LEDGER_INVALID_AMOUNT', op.key) };
    if (debit.id === credit.id) return { ok: false, error: ledgerError('LEDGER_SAME_ACCOUNT', op.key) };
    if (debit.currency !== op.currency || credit.currency !== op.currency) {
      return { ok: false, error: ledgerError('LEDGER_CURRENCY_MISMATCH', op.key) };
    }
    if (debit.overdraftLimit !== null && balance(debit) - op.amount < -debit.overdraftLimit) {
      return { ok: false, error: ledgerError('LEDGER_INSUFFICIENT_FUNDS', op.key) };
    }
    debit.debitsPosted += op.amount;
    credit.creditsPosted += op.amount;
    const transfer: LedgerTransfer = {
      id: ids.newId('txn'),
      key: op.key,
      debitAccountId: debit.id,
      creditAccountId: credit.id,
      amount: op.amount,
      currency: op.currency,
      kind: op.kind,
      ref: op.ref ?? null,
      flag: 'single',
      pendingId: null,
      expiresAt: null,
      createdAt: Date.now(),
    };
    transfers.set(op.key, { op: fingerprint, transfer });
    return { ok: true, transfer, replayed: false };
  }

  const port: LedgerPort = {
    async openAccount(_tx: Executor, spec) {
      return openSync(spec);
    },
    async apply(_tx: Executor, ops: LedgerOp[]) {
      return ops.map(applyOne);
    },
  };

  return {
    port,
    openSync,
    /** Balance (credits − debits) of an account by code. */
    balanceOf(code: string, currency = 'USD'): bigint {
      const id = byCode.get(`${code}/${currency}`);
      return id ? balance(accounts.get(id) as LedgerAccount) : 0n;
    },
    transfer(key: string): LedgerTransfer | undefined {
      return transfers.get(key)?.transfer;
    },
    /** Money from outside (a top-up), straight onto an account. */
    fund(code: string, amount: bigint, currency = 'USD'): void {
      const external = openSync({ code: 'external:test', currency, kind: 'external', overdraftLimit: null });
      const target = openSync({ code, currency, kind: 'business', overdraftLimit: 0n });
      const r = applyOne({
        type: 'transfer',
        key: `fund:${ids.newId('txn')}`,
        debitAccountId: external.id,
        creditAccountId: target.id,
        amount,
        currency,
        kind: 'top_up',
      });
      if (!r.ok) throw r.error;
    },
    /** Σ of all balances of a currency: zero when every transfer balanced. */
    sum(currency = 'USD'): bigint {
      let s = 0n;
      for (const a of accounts.values()) if (a.currency === currency) s += balance(a);
      return s;
    },
  };
}

export type MemoryLedger = ReturnType<typeof createMemoryLedger>;

export interface ChargeInput {
  stream?: string;
  category?: string | null;
  market?: string | null;
  quantity?: number;
  unitMicros: bigint;
  markupMicros?: bigint;
  occurredAt: number;
  rounding?: string;
  description?: string | null;
}

/** Billing accounts and charges written as the billing core and metering write them. */
export function createBillingFixtures(deps: { db: Executor; ids: Ids; ledger: MemoryLedger }) {
  const { db, ids, ledger } = deps;
  return {
    async account(
      opts: {
        mode?: 'prepaid' | 'credit';
        country?: string | null;
        currency?: string;
        creditLimit?: bigint;
      } = {},
    ) {
      const businessId = ids.newId('biz');
      const currency = opts.currency ?? 'USD';
      const mode = opts.mode ?? 'prepaid';
      const limit = mode === 'credit' ? (opts.creditLimit ?? 1_000_000n) : 0n;
      const lac = ledger.openSync({
        code: `business:${businessId}`,
        currency,
        kind: 'business',
        overdraftLimit: limit,
      });
      const id = ids.newId('bac');
      await db
        .insertInto('billing_accounts')
        .values({
          id,
          owner_type: 'business',
          owner_id: businessId,
          currency,
          country: opts.country ?? null,
          mode,
          credit_limit_minor: limit.toString(),
          ledger_account_id: lac.id,
          partner_id: null,
          low_balance_minor: null,
          low_balance_alerted_at: null,
          carry_micros: 0,
          created_at: Date.now(),
          updated_at: Date.now(),
        })
        .execute();
      return { id, businessId, currency, ledgerCode: `business:${businessId}` };
    },

    async charges(account: { id: string; businessId: string; currency: string }, list: ChargeInput[]) {
      const rows = list.map((c) => {
        const quantity = c.quantity ?? 1;
        return {
          id: ids.newId('chg'),
          idempotency_key: `test:${ids.newId('chg')}`,
          billing_account_id: account.id,
          business_id: account.businessId,
          person_account_id: null,
          stream: (c.stream ?? 'api_messages') as 'api_messages',
          category: c.category === undefined ? 'marketing' : c.category,
          market: c.market === undefined ? 'DE' : c.market,
          pricing_model: 'PMP',
          pricing_type: c.unitMicros === 0n ? 'free_customer_service' : 'regular',
          billable: c.unitMicros === 0n ? 0 : 1,
          quantity,
          unit_price_micros: c.unitMicros.toString(),
          amount_micros: (c.unitMicros * BigInt(quantity)).toString(),
          partner_id: null,
          partner_markup_micros: (c.markupMicros ?? 0n).toString(),
          currency: account.currency,
          rate_card_version_id: null,
          rounding: c.rounding ?? 'half_even',
          period: new Date(c.occurredAt).toISOString().slice(0, 7),
          occurred_at: c.occurredAt,
          created_at: c.occurredAt,
          description: c.description ?? null,
          ledger_transfer_id: null,
        };
      });
      for (let i = 0; i < rows.length; i += 500) {
        await db
          .insertInto('billing_charges')
          .values(rows.slice(i, i + 500))
          .execute();
      }
    },
  };
}
