/**
 * What billing needs of the parts around it, as small structural interfaces: the ledger,
 * rate cards and pricing models, partners and notices. The real modules satisfy them; tests
 * pass the real ones too. The ledger's ops, balances and account specs are the ledger's own
 * types (type-only imports); what billing reads back is narrowed to the fields it uses.
 */
import type { AppError } from '../../errors.js';
import type { Executor } from '../../platform/db.js';
import type { Balance, LedgerFlag, LedgerOp, OpenAccountSpec } from '../ledger/index.js';

export type { LedgerOp };

export interface LedgerTransferRef {
  id: string;
  key: string;
  amount: bigint;
  flag: LedgerFlag;
}

export type LedgerResult =
  | { ok: true; transfer: LedgerTransferRef; replayed: boolean }
  | { ok: false; error: AppError };

export interface LedgerAccountRef {
  id: string;
  code: string;
  currency: string;
}

export type LedgerBalance = Balance;

export interface LedgerPort {
  openAccount(tx: Executor, spec: OpenAccountSpec): Promise<LedgerAccountRef>;
  setOverdraftLimit(tx: Executor, accountId: string, limit: bigint | null): Promise<void>;
  apply(tx: Executor, ops: LedgerOp[]): Promise<LedgerResult[]>;
  execute(op: LedgerOp): Promise<{ transfer: LedgerTransferRef; replayed: boolean }>;
  balance(accountId: string, at?: number, tx?: Executor): Promise<LedgerBalance>;
  /** Per account, the sum of its posted debits of these kinds (accounts with none are absent). */
  debitedByKinds(
    tx: Executor,
    accountIds: readonly string[],
    kinds: readonly string[],
  ): Promise<Map<string, bigint>>;
  /** Transfers by idempotency key (holds are found by their key `hold:<message id>`). */
  byKeys(tx: Executor, keys: readonly string[]): Promise<Map<string, LedgerTransferRef>>;
}

import type { BillingCategory, PricingModel } from './pricing-models.js';

export type { BillingCategory, PricingModel };

export interface RateCardsPort {
  priceAt(
    tx: Executor,
    input: { currency: string; category: BillingCategory; market: string; at: number; monthlyCount: number },
  ): Promise<{ versionId: string; unitPriceMicros: bigint } | null>;
}

export interface PricingModelsPort {
  modelAt(tx: Executor, at: number): Promise<PricingModel>;
}

export interface PartnersPort {
  markupFor(
    tx: Executor,
    businessId: string,
    category: string,
  ): Promise<{ partnerId: string; markupBps: number; markupMicros: bigint } | null>;
}

export interface NoticesPort {
  add(
    tx: Executor,
    notice: {
      ownerType: 'business' | 'person';
      ownerId: string;
      kind: string;
      title: string;
      body: string;
      data?: Record<string, unknown>;
    },
  ): Promise<unknown>;
}
