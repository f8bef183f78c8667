/** The ledger's public shapes (see ledger.service.ts for the model). Money is bigint minor units. */
import type { AppError } from '../../errors.js';

export type LedgerAccountKind = 'business' | 'person' | 'revenue' | 'tax' | 'partner' | 'external';

export interface LedgerAccount {
  /** lac_… */
  id: string;
  /** Unique with the currency: 'business:biz_1', 'revenue:api_messages', 'tax:DE', 'external:manual', … */
  code: string;
  currency: string;
  kind: LedgerAccountKind;
  /** How far below zero the balance may go; null: no limit (the outside world). */
  overdraftLimit: bigint | null;
  debitsPosted: bigint;
  creditsPosted: bigint;
  debitsPending: bigint;
  creditsPending: bigint;
}

export interface OpenAccountSpec {
  code: string;
  currency: string;
  kind: LedgerAccountKind;
  overdraftLimit: bigint | null;
}

/** posted = credits − debits; available = posted − pendingDebits. */
export interface Balance {
  posted: bigint;
  pendingDebits: bigint;
  pendingCredits: bigint;
  available: bigint;
}

export type LedgerFlag = 'single' | 'pending' | 'post' | 'void';

export interface LedgerTransfer {
  id: string;
  key: string;
  debitAccountId: string;
  creditAccountId: string;
  amount: bigint;
  currency: string;
  kind: string;
  ref: string | null;
  flag: LedgerFlag;
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
      /** Present: a two-phase hold, posted or voided later, voided by expireHolds after expiresAt. */
      pending?: { expiresAt: number };
      /**
       * Records the debit even past the account's overdraft limit: for what is already owed
       * (usage delivered), which refusing would lose. Holds never take it.
       */
      allowOverdraft?: boolean;
    }
  /** Posts a hold: `amount` ≤ held (default: all of it); the rest is released. */
  | { type: 'post'; key: string; pendingId: string; amount?: bigint }
  | { type: 'void'; key: string; pendingId: string };

export type LedgerResult =
  | { ok: true; transfer: LedgerTransfer; replayed: boolean }
  | { ok: false; error: AppError };

export interface LedgerCheck {
  ok: boolean;
  currencies: { currency: string; sum: string; accounts: number }[];
  mismatches: { accountId: string; code: string; stored: string; fromTransfers: string }[];
}
