/**
 * Top-ups and payments through providers.
 *
 * `topUp` books money that arrived: a ledger transfer `external:<provider>` → the account's
 * ledger account, and a numbered receipt, in one transaction, idempotent by key (the receipt's
 * unique key and the transfer's key `topup:<key>`): a replay with the same request returns
 * the first receipt and changes nothing; the same key with another amount, account or
 * provider is BILLING_IDEMPOTENCY_CONFLICT.
 *
 * `pay` collects through a provider and books what it collected as a top-up, so a fee is
 * then charged from the balance like any other.
 */
import { AppError } from '../../errors.js';
import type { Clock } from '../../platform/clock.js';
import type { Db, Executor } from '../../platform/db.js';
import type { Ids } from '../../platform/ids.js';
import { parsePositiveAmount } from './money.js';
import type { PaymentProviders } from './payment-provider.js';
import type { ReceiptRow, ReceiptsRepo } from './payment-provider.repo.js';
import type { BillingAccountsPort, LedgerPort } from './subscriptions.ports.js';

export interface ReceiptView {
  receipt_id: string;
  number: number;
  amount_minor: string;
  currency: string;
  provider: string;
  reference: string | null;
  created_at: number;
}

export function presentReceipt(row: ReceiptRow): ReceiptView {
  return {
    receipt_id: row.id,
    number: Number(row.number),
    amount_minor: String(row.amount_minor),
    currency: row.currency,
    provider: row.provider,
    reference: row.reference,
    created_at: Number(row.created_at),
  };
}

export interface TopUpInput {
  billingAccountId: string;
  /** Minor units; a string or safe integer from input, validated here. */
  amountMinor: bigint | string | number;
  key: string;
  provider: string;
  reference?: string | null;
}

export interface PaymentsDeps {
  db: Pick<Db, 'kysely'>;
  repo: ReceiptsRepo;
  ledger: LedgerPort;
  accounts: Pick<BillingAccountsPort, 'ensure' | 'get'>;
  providers: PaymentProviders;
  clock: Clock;
  ids: Ids;
}

export function createPayments(deps: PaymentsDeps) {
  const { db, repo, ledger, providers, clock, ids } = deps;

  async function accountRow(tx: Executor, billingAccountId: string) {
    const row = await repo.billingAccount(tx, billingAccountId);
    if (!row) throw new AppError('VALIDATION_FAILED', `No billing account ${billingAccountId}.`);
    return row;
  }

  /** Books a top-up in the caller's transaction. */
  async function topUpIn(
    tx: Executor,
    input: TopUpInput,
  ): Promise<{ receipt: ReceiptView; replayed: boolean }> {
    const amount = parsePositiveAmount(input.amountMinor);
    providers.get(input.provider);
    const existing = await repo.byKey(input.key, tx);
    if (existing) {
      if (
        BigInt(existing.amount_minor) !== amount ||
        existing.billing_account_id !== input.billingAccountId ||
        existing.provider !== input.provider
      ) {
        throw new AppError(
          'BILLING_IDEMPOTENCY_CONFLICT',
          `The key "${input.key}" was used for another top-up (receipt ${existing.number}).`,
          { receipt_id: existing.id },
        );
      }
      return { receipt: presentReceipt(existing), replayed: true };
    }
    const account = await accountRow(tx, input.billingAccountId);
    const external = await ledger.openAccount(tx, {
      code: `external:${input.provider}`,
      currency: account.currency,
      kind: 'external',
      overdraftLimit: null,
    });
    const [result] = await ledger.apply(tx, [
      {
        type: 'transfer',
        key: `topup:${input.key}`,
        debitAccountId: external.id,
        creditAccountId: account.ledger_account_id,
        amount,
        currency: account.currency,
        kind: 'top_up',
        ref: input.reference ?? null,
      },
    ]);
    if (!result) throw new Error('the ledger returned no result');
    if (!result.ok) throw result.error;
    const now = clock.now();
    const row: ReceiptRow = {
      id: ids.newId('rcp'),
      number: await repo.nextNumber(tx, now),
      idempotency_key: input.key,
      billing_account_id: account.id,
      amount_minor: amount.toString(),
      currency: account.currency,
      provider: input.provider,
      reference: input.reference ?? null,
      ledger_transfer_id: result.transfer.id,
      created_at: now,
    };
    await repo.insert(tx, row);
    return { receipt: presentReceipt(row), replayed: false };
  }

  return {
    topUpIn,

    async topUp(input: TopUpInput): Promise<{ receipt: ReceiptView; replayed: boolean }> {
      return db.kysely.transaction().execute((tx) => topUpIn(tx, input));
    },

    /** Operator top-up of a business (its billing account is created on first use). */
    async topUpBusiness(
      businessId: string,
      input: Omit<TopUpInput, 'billingAccountId' | 'provider'> & { provider?: string },
    ): Promise<{ receipt: ReceiptView; replayed: boolean }> {
      return db.kysely.transaction().execute(async (tx) => {
        if (!(await repo.businessExists(tx, businessId)))
          throw new AppError('BUSINESS_NOT_FOUND', `No business ${businessId}.`);
        const account = await deps.accounts.ensure(tx, { ownerType: 'business', ownerId: businessId });
        return topUpIn(tx, { ...input, billingAccountId: account.id, provider: input.provider ?? 'manual' });
      });
    },

    /**
     * Collects `amountMinor` through the provider (outside any transaction: it may call out)
     * and books it as a top-up under `key`. Throws BILLING_PAYMENT_FAILED when the provider
     * declines or has not confirmed.
     */
    async pay(input: {
      billingAccountId: string;
      amountMinor: bigint;
      currency: string;
      key: string;
      provider: string;
      description: string;
    }): Promise<ReceiptView> {
      const provider = providers.get(input.provider);
      const replay = await repo.byKey(input.key);
      if (replay) return (await this.topUp({ ...input, reference: replay.reference })).receipt;
      const result = await provider.collect(input);
      if (result.status !== 'succeeded') {
        throw new AppError(
          'BILLING_PAYMENT_FAILED',
          `The payment was not collected: ${result.reason ?? result.status}.`,
          {
            status: result.status,
            reason: result.reason ?? null,
            provider: provider.id,
          },
        );
      }
      return (await this.topUp({ ...input, reference: result.reference ?? null })).receipt;
    },

    /** Throws BILLING_PROVIDER_UNKNOWN unless a provider with this id is configured. */
    requireProvider(id: string): void {
      providers.get(id);
    },

    async receipts(billingAccountId: string, limit = 100): Promise<ReceiptView[]> {
      return (await repo.ofAccount(billingAccountId, limit)).map(presentReceipt);
    },
  };
}

export type Payments = ReturnType<typeof createPayments>;
