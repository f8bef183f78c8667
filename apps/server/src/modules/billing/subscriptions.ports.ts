/**
 * What subscriptions, the consumer plan and top-ups need from the ledger and from billing
 * accounts: the subset of their APIs (types as in the billing contracts), taken as
 * dependencies so the real implementations are wired in by the billing module.
 */
import type { Selectable } from 'kysely';
import type { Executor } from '../../platform/db.js';
import type { BillingAccountsTable, ChargeStream } from '../../platform/schema.js';

import type {
  LedgerAccount,
  LedgerAccountKind,
  LedgerOp,
  LedgerResult,
  LedgerTransfer,
} from '../ledger/index.js';

export type { LedgerAccount, LedgerAccountKind, LedgerOp, LedgerResult, LedgerTransfer };

export interface LedgerPort {
  apply(tx: Executor, ops: LedgerOp[]): Promise<LedgerResult[]>;
  openAccount(
    tx: Executor,
    spec: { code: string; currency: string; kind: LedgerAccountKind; overdraftLimit: bigint | null },
  ): Promise<LedgerAccount>;
}

export type BillingAccountRow = Selectable<BillingAccountsTable>;

export interface ChargeInput {
  billingAccountId: string;
  /** Idempotency key of the `billing_charges` row and its ledger transfer. */
  key: string;
  stream: ChargeStream;
  /**
   * Minor units. Negative: a credit (the unused part of a plan), which moves money from
   * `revenue:<stream>` back to the account and is recorded as a charge with a negative amount.
   */
  amountMinor: bigint;
  description: string;
  occurredAt: number;
  businessId?: string | null;
  personAccountId?: string | null;
}

/**
 * Billing accounts (the billing module). `charge` writes the `billing_charges` row and posts
 * its ledger transfer in `tx`, idempotent by key; it throws the ledger's AppError
 * (LEDGER_INSUFFICIENT_FUNDS) when the account cannot pay, without running a failing statement.
 */
export interface BillingAccountsPort {
  ensure(
    tx: Executor,
    input: { ownerType: 'business' | 'person'; ownerId: string; currency?: string },
  ): Promise<BillingAccountRow>;
  get(
    tx: Executor,
    ownerType: 'business' | 'person',
    ownerId: string,
  ): Promise<BillingAccountRow | undefined>;
  charge(tx: Executor, input: ChargeInput): Promise<{ chargeId: string; replayed: boolean }>;
}
