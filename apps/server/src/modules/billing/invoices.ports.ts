/**
 * The part of the ledger (modules/ledger, contracts) that invoices call, declared here so this
 * module builds and is tested without it; the real ledger satisfies it structurally.
 */
import type { Executor } from '../../platform/db.js';

import type {
  LedgerAccount,
  LedgerAccountKind,
  LedgerOp,
  LedgerResult,
  LedgerTransfer,
} from '../ledger/index.js';

export type { LedgerAccount, LedgerAccountKind, LedgerOp, LedgerResult, LedgerTransfer };

export interface LedgerPort {
  openAccount(
    tx: Executor,
    spec: { code: string; currency: string; kind: LedgerAccountKind; overdraftLimit: bigint | null },
  ): Promise<LedgerAccount>;
  apply(tx: Executor, ops: LedgerOp[]): Promise<LedgerResult[]>;
}
