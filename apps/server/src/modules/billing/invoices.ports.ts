/**
 * The part of the ledger (modules/ledger, contracts) that invoices call, declared here so this
 * module builds and is tested without it; the real ledger satisfies it structurally.
 */
import type { AppError } from '../../errors.js';
import type { Executor } from '../../platform/db.js';

export type LedgerAccountKind = 'business' | 'person' | 'revenue' | 'tax' | 'partner' | 'external';

export interface LedgerAccount {
  id: string;
  code: string;
  currency: string;
  kind: LedgerAccountKind;
  overdraftLimit: bigint | null;
  debitsPosted: bigint;
  creditsPosted: bigint;
  debitsPending: bigint;
  creditsPending: bigint;
}

export interface LedgerTransfer {
  id: string;
  key: string;
  debitAccountId: string;
  creditAccountId: string;
  amount: bigint;
  currency: string;
  kind: string;
  ref: string | null;
  flag: 'single' | 'pending' | 'post' | 'void';
  pendingId: string | null;
  expiresAt: number | null;
  createdAt: number;
}

export type LedgerOp =
  | {
      type: 'transfer';
      key: string;
      debitAccountId: string;
      creditAccountId: string;
      amount: bigint;
      currency: string;
      kind: string;
      ref?: string | null;
      pending?: { expiresAt: number };
    }
  | { type: 'post'; key: string; pendingId: string; amount?: bigint }
  | { type: 'void'; key: string; pendingId: string };

export type LedgerResult =
  | { ok: true; transfer: LedgerTransfer; replayed: boolean }
  | { ok: false; error: AppError };

export interface LedgerPort {
  openAccount(
    tx: Executor,
    spec: { code: string; currency: string; kind: LedgerAccountKind; overdraftLimit: bigint | null },
  ): Promise<LedgerAccount>;
  apply(tx: Executor, ops: LedgerOp[]): Promise<LedgerResult[]>;
}
